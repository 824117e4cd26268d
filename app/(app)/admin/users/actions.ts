"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { revokeUserSessions } from "@/lib/auth/sessions";
import { idSchema } from "@/lib/id-schema";

const endSessions = authorizedAction(
  { role: "admin", schema: z.object({ userId: idSchema() }) },
  async ({ userId }): Promise<ActionResult<{ message: string }>> => {
    const ended = await revokeUserSessions({ userId });
    revalidatePath("/admin/users");
    return { ok: true, message: ended === 1 ? "1 session ended." : `${ended} sessions ended.` };
  },
);

/** An administrator ends every session of a user (a lost phone, a leaving employee). */
export async function endUserSessionsAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return endSessions(input);
}
