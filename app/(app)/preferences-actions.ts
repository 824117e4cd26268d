"use server";

import { revalidatePath } from "next/cache";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { preferenceSchema } from "@/lib/departments/schemas";
import { updateUserPreferences } from "@/lib/users/preferences";

const setHideProcessButton = authorizedAction(
  { schema: preferenceSchema },
  async ({ hideProcessButton }, user): Promise<ActionResult<{ hideProcessButton: boolean }>> => {
    const preferences = await updateUserPreferences({ userId: user.id, changes: { hideProcessButton } });
    revalidatePath("/", "layout");
    return { ok: true, hideProcessButton: preferences.hideProcessButton === true };
  },
);

/** The user menu's "Hide Process Button" toggle, stored as a user preference. */
export async function setHideProcessButtonAction(
  input: unknown,
): Promise<ActionResult<{ hideProcessButton: boolean }>> {
  return setHideProcessButton(input);
}
