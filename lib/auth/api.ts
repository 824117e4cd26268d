import "server-only";
import type { UserRole } from "@/db/schema";
import { HttpError } from "@/lib/http/errors";
import { type CurrentUser, getCurrentUser } from "./guards";
import { hasRole } from "./roles";

/** The signed-in user of an API request with at least `role`; otherwise a 401 or 403 HttpError. */
export async function requireApiUser(role: UserRole = "employee"): Promise<CurrentUser> {
  const user = await getCurrentUser();
  if (!user) throw new HttpError("unauthorized", "Sign in first.");
  if (!hasRole(user.role, role)) throw new HttpError("forbidden", "You are not allowed to do this.");
  return user;
}
