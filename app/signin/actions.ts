"use server";

import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { AuthError } from "next-auth";
import { z } from "zod";
import { safeCallbackUrl } from "@/lib/auth/callback-url";
import { credentialsSchema, signIn, signOut, TooManySignInAttempts } from "@/lib/auth/config";
import { keepSessionCookieForBrowserSession } from "@/lib/auth/session-cookie";
import { tooManyAttemptsMessage } from "@/lib/auth/throttle";

export interface SignInState {
  error?: string;
  fieldErrors?: { username?: string[]; password?: string[] };
  username?: string;
  remember?: boolean;
}

export async function signInAction(_previous: SignInState, formData: FormData): Promise<SignInState> {
  // A server action is a public endpoint: its argument is whatever the caller sent.
  if (!(formData instanceof FormData)) return { error: "Enter your username and password." };
  const username = String(formData.get("username") ?? "").slice(0, 200);
  const parsed = credentialsSchema.safeParse({
    username: formData.get("username"),
    password: formData.get("password"),
    remember: formData.get("remember"),
  });
  if (!parsed.success) {
    const { username: u, password } = z.flattenError(parsed.error).fieldErrors;
    return { fieldErrors: { username: u, password }, username };
  }
  const target = safeCallbackUrl(formData.get("callbackUrl"));
  try {
    await signIn("credentials", { ...parsed.data, remember: String(parsed.data.remember), redirect: false });
  } catch (error) {
    // Only authentication failures are answered here; anything else is a real fault.
    if (error instanceof TooManySignInAttempts) {
      return {
        error: tooManyAttemptsMessage(error.retryAfterSeconds),
        username,
        remember: parsed.data.remember,
      };
    }
    if (error instanceof AuthError) {
      return {
        error:
          error.type === "CredentialsSignin"
            ? "Invalid username or password."
            : "Sign-in is not available right now. Try again in a moment.",
        username,
        remember: parsed.data.remember,
      };
    }
    throw error;
  }
  if (!parsed.data.remember) keepSessionCookieForBrowserSession(await cookies());
  redirect(target);
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/signin" });
}
