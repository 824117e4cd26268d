"use server";

import { AuthError } from "next-auth";
import { z } from "zod";
import { safeCallbackUrl } from "@/lib/auth/callback-url";
import { credentialsSchema, signIn, signOut } from "@/lib/auth/config";

export interface SignInState {
  error?: string;
  fieldErrors?: { username?: string[]; password?: string[] };
  username?: string;
}

export async function signInAction(_previous: SignInState, formData: FormData): Promise<SignInState> {
  // A server action is a public endpoint: its argument is whatever the caller sent.
  if (!(formData instanceof FormData)) return { error: "Enter your username and password." };
  const username = String(formData.get("username") ?? "").slice(0, 200);
  const parsed = credentialsSchema.safeParse({
    username: formData.get("username"),
    password: formData.get("password"),
  });
  if (!parsed.success) {
    return { fieldErrors: z.flattenError(parsed.error).fieldErrors, username };
  }
  try {
    await signIn("credentials", {
      ...parsed.data,
      redirectTo: safeCallbackUrl(formData.get("callbackUrl")),
    });
  } catch (error) {
    // signIn redirects by throwing; only authentication failures are answered here.
    if (error instanceof AuthError) {
      return {
        error:
          error.type === "CredentialsSignin"
            ? "Invalid username or password."
            : "Sign-in is not available right now. Try again in a moment.",
        username,
      };
    }
    throw error;
  }
  return {};
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/signin" });
}
