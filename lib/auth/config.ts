import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { whenDatabaseReady } from "@/db/ready";
import { getEnv } from "@/lib/env";
import { hasControlCharacters } from "@/lib/text";
import { getUserByUsername } from "@/lib/users/queries";
import { verifyPassword } from "./password";

export const SESSION_MAX_AGE_SECONDS = 30 * 24 * 60 * 60;

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
});

// Next-auth is configured lazily so the environment is read at request time, not at build time.
export const { handlers, auth, signIn, signOut } = NextAuth(() => ({
  secret: getEnv().NEXTAUTH_SECRET,
  trustHost: true,
  session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_SECONDS },
  pages: { signIn: "/signin" },
  providers: [
    Credentials({
      credentials: { username: {}, password: {} },
      async authorize(raw) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) throw new CredentialsSignin();
        await whenDatabaseReady();
        const user = await getUserByUsername({ username: parsed.data.username });
        if (!user || !(await verifyPassword(parsed.data.password, user.passwordHash))) {
          throw new CredentialsSignin();
        }
        return { id: String(user.id), name: user.username };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) {
        token.uid = user.id;
        // One id per sign-in: background chains serialize and count their limits per session.
        token.sid = crypto.randomUUID();
      }
      return token;
    },
    session({ session, token }) {
      return {
        ...session,
        sessionId: typeof token.sid === "string" ? token.sid : "",
        user: { ...session.user, id: typeof token.uid === "string" ? token.uid : "" },
      };
    },
  },
}));
