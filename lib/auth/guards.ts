import "server-only";
import { headers } from "next/headers";
import { forbidden, redirect } from "next/navigation";
import { cache } from "react";
import type { UserPreferences, UserRole } from "@/db/schema";
import { getUserById } from "@/lib/users/queries";
import { signInPath } from "./callback-url";
import { auth } from "./config";
import { hasRole } from "./roles";

export interface CurrentUser {
  id: number;
  username: string;
  displayName: string;
  role: UserRole;
  preferences: UserPreferences;
}

/** Header set by proxy.ts with the path and query of the page being rendered. */
export const REQUEST_URL_HEADER = "x-request-url";

/**
 * The signed-in user, read fresh from the database on every request so a removed user or a changed
 * role takes effect at once even though the session cookie lives 30 days.
 */
export const getCurrentUser = cache(async (): Promise<CurrentUser | null> => {
  const session = await auth();
  const id = Number(session?.user?.id);
  if (!Number.isInteger(id) || id <= 0) return null;
  const user = await getUserById({ id });
  if (!user) return null;
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    role: user.role,
    preferences: user.preferences,
  };
});

/** For pages: the signed-in user, or a redirect to sign-in that comes back to this exact URL. */
export async function requireUser(): Promise<CurrentUser> {
  const user = await getCurrentUser();
  if (user) return user;
  const here = (await headers()).get(REQUEST_URL_HEADER) ?? "/";
  redirect(signInPath(here));
}

/** For pages: the signed-in user holding `role` (or a higher one); others get the 403 page. */
export async function requireRole(role: UserRole): Promise<CurrentUser> {
  const user = await requireUser();
  if (!hasRole(user.role, role)) forbidden();
  return user;
}

/** The id of the signed-in session (one per sign-in), or null without one. */
export async function getSessionId(): Promise<string | null> {
  const session = (await auth()) as { sessionId?: unknown } | null;
  return typeof session?.sessionId === "string" && session.sessionId ? session.sessionId : null;
}
