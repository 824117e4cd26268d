import "server-only";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type Executor, getDb } from "@/db/client";
import { users } from "@/db/schema";
import { hasControlCharacters } from "@/lib/text";
import { getUserById } from "@/lib/users/queries";
import { hashPassword, verifyPassword } from "./password";
import { revokeUserSessions } from "./sessions";

/** bcrypt reads at most 72 bytes: a longer password would be silently cut. */
const MAX_PASSWORD_BYTES = 72;

export const changePasswordSchema = z
  .object({
    currentPassword: z
      .string({ message: "Enter your current password." })
      .min(1, { message: "Enter your current password." })
      .max(200, { message: "Passwords are at most 200 characters." }),
    newPassword: z
      .string({ message: "Enter a new password." })
      .min(8, { message: "Use at least 8 characters." })
      .refine((value) => Buffer.byteLength(value) <= MAX_PASSWORD_BYTES, {
        message: `Use at most ${MAX_PASSWORD_BYTES} bytes (fewer characters with accents or emoji).`,
      })
      .refine((value) => !hasControlCharacters(value), { message: "Passwords have no control characters." }),
    confirmPassword: z.string({ message: "Repeat the new password." }),
  })
  .refine((value) => value.confirmPassword === value.newPassword, {
    message: "The two new passwords differ.",
    path: ["confirmPassword"],
  })
  .refine((value) => value.newPassword !== value.currentPassword, {
    message: "Choose a password different from the current one.",
    path: ["newPassword"],
  });

export type ChangePasswordResult = { ok: true; signedOut: number } | { ok: false; wrongPassword: true };

/**
 * Changes a user's password after checking the current one, and ends every other session of theirs:
 * whoever knew the old password is signed out everywhere but here.
 */
export async function changePassword(
  {
    userId,
    currentPassword,
    newPassword,
    keepSession,
  }: { userId: number; currentPassword: string; newPassword: string; keepSession: string | null },
  db: Executor = getDb(),
): Promise<ChangePasswordResult> {
  const user = await getUserById({ id: userId }, db);
  if (!user || !(await verifyPassword(currentPassword, user.passwordHash))) {
    return { ok: false, wrongPassword: true };
  }
  const passwordHash = await hashPassword(newPassword);
  const signedOut = await db.transaction(async (tx) => {
    await tx.update(users).set({ passwordHash }).where(eq(users.id, userId));
    return revokeUserSessions({ userId, except: keepSession }, tx);
  });
  return { ok: true, signedOut };
}
