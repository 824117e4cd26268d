import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { whenDatabaseReady } from "@/db/ready";
import { getEnv } from "@/lib/env";
import { clientAddress } from "@/lib/http/client-address";
import { hasControlCharacters } from "@/lib/text";
import { getUserByUsername } from "@/lib/users/queries";
import { hashPassword, verifyPassword } from "./password";
import { createUserSession, isSessionActive, revokeSession, sessionMaxAgeSeconds } from "./sessions";
import { recordSignInFailure, recordSignInSuccess, signInRetryAfter } from "./throttle";

export const credentialsSchema = z.object({
  username: z
    .string({ message: "Enter your username." })
    .trim()
    .min(1, { message: "Enter your username." })
    .max(64, { message: "Usernames are at most 64 characters." })
    // A NUL byte would fail in PostgreSQL and look like an outage ("Sign-in is not available").
    .refine((value) => !hasControlCharacters(value), { message: "Usernames have no control characters." }),
  password: z
    .string({ message: "Enter your password." })
    .min(1, { message: "Enter your password." })
    .max(200, { message: "Passwords are at most 200 characters." }),
  /** The "Remember me" checkbox ("on" when ticked); anything else is a browser-session sign-in. */
  remember: z
    .unknown()
    .optional()
    .transform((value) => value === "on" || value === "true" || value === true),
});

/** Thrown by authorize while the account or address is throttled; the wait travels with it. */
export class TooManySignInAttempts extends CredentialsSignin {
  code = "too_many_attempts";
  constructor(readonly retryAfterSeconds: number) {
    super();
  }
}

// Compared against when the username is unknown, so an unknown user takes as long as a wrong password.
let dummyHash: Promise<string> | undefined;

// Next-auth is configured lazily so the environment is read at request time, not at build time.
export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: getEnv().NEXTAUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: sessionMaxAgeSeconds() },
  pages: { signIn: "/signin" },
  providers: [
    Credentials({
      credentials: { username: {}, password: {}, remember: {} },
      async authorize(raw, request) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) throw new CredentialsSignin();
        await whenDatabaseReady();
        const who = { username: parsed.data.username, address: clientAddress(request.headers) };
        const wait = await signInRetryAfter(who);
        if (wait > 0) throw new TooManySignInAttempts(wait);
        const user = await getUserByUsername({ username: parsed.data.username });
        dummyHash ??= hashPassword(crypto.randomUUID());
        const matches = await verifyPassword(parsed.data.password, user?.passwordHash ?? (await dummyHash));
        if (!user || !matches) {
          await recordSignInFailure(who);
          throw new CredentialsSignin();
        }
        await recordSignInSuccess(who);
        return {
          id: String(user.id),
          name: user.username,
          remember: parsed.data.remember,
          userAgent: request.headers.get("user-agent") ?? "",
        };
      },
    }),
  ],
  events: {
    // Signing out ends the session on the server too: the old cookie, if replayed, is refused.
    async signOut(message) {
      const sid = "token" in message ? message.token?.sid : undefined;
      if (typeof sid === "string") await revokeSession({ id: sid });
    },
  },
  callbacks: {
    // Runs on every auth() — pages, route handlers, server actions and /api/auth/session alike — so a
    // revoked or expired session is refused everywhere (null clears the cookie where one can be set).
    async jwt({ token, user }) {
      if (user?.id) {
        const { remember, userAgent } = user as { remember?: boolean; userAgent?: string };
        await whenDatabaseReady();
        token.uid = user.id;
        token.remember = remember === true;
        // One id per sign-in: the server-side session record, also what background chains serialize on.
        token.sid = await createUserSession({
          userId: Number(user.id),
          remember: remember === true,
          userAgent,
        });
        return token;
      }
      const userId = Number(token.uid);
      if (typeof token.sid !== "string" || !Number.isInteger(userId)) return null;
      await whenDatabaseReady();
      return (await isSessionActive({ id: token.sid, userId })) ? token : null;
    },
    session({ session, token }) {
      return {
        ...session,
        sessionId: typeof token.sid === "string" ? token.sid : "",
        remember: token.remember === true,
        user: { ...session.user, id: typeof token.uid === "string" ? token.uid : "" },
      };
    },
  },
}));
