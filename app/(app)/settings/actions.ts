"use server";

import { headers } from "next/headers";
import { z } from "zod";
import { changePassword, changePasswordSchema } from "@/lib/auth/account";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { signOut } from "@/lib/auth/config";
import { getSessionId } from "@/lib/auth/guards";
import { revokeUserSessions } from "@/lib/auth/sessions";
import { recordSignInFailure, signInRetryAfter, tooManyAttemptsMessage } from "@/lib/auth/throttle";
import { clientAddress } from "@/lib/http/client-address";

const signOutEverywhere = authorizedAction(
  { schema: z.object({ confirm: z.literal("everywhere", { message: "Confirm signing out everywhere." }) }) },
  async (_input, user) => {
    await revokeUserSessions({ userId: user.id });
    await signOut({ redirectTo: "/signin" });
    return { ok: true };
  },
);

/** "Sign out of all devices": ends every session of the user, this one included. */
export async function signOutEverywhereAction(input: unknown): Promise<ActionResult> {
  return signOutEverywhere(input);
}

const changeOwnPassword = authorizedAction(
  { schema: changePasswordSchema },
  async (input, user): Promise<ActionResult<{ message: string }>> => {
    // The current-password check is a password oracle too: throttled like sign-in.
    const who = { username: user.username, address: clientAddress(await headers()) };
    const wait = await signInRetryAfter(who);
    if (wait > 0) return { ok: false, error: tooManyAttemptsMessage(wait) };
    const result = await changePassword({
      userId: user.id,
      currentPassword: input.currentPassword,
      newPassword: input.newPassword,
      keepSession: await getSessionId(),
    });
    if (!result.ok) {
      await recordSignInFailure(who);
      return {
        ok: false,
        error: "Please correct the highlighted fields.",
        fieldErrors: { currentPassword: ["The current password is not right."] },
      };
    }
    const others = result.signedOut === 1 ? "1 other session" : `${result.signedOut} other sessions`;
    return { ok: true, message: `Password changed. ${others} signed out.` };
  },
);

/** Changes the password (old one required) and signs out every other session. */
export async function changePasswordAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return changeOwnPassword(input);
}
