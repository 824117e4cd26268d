import "server-only";
import { z } from "zod";
import type { UserRole } from "@/db/schema";
import { type CurrentUser, getCurrentUser } from "./guards";
import { hasRole } from "./roles";

export type ActionResult<T extends object = object> =
  | ({ ok: true } & T)
  | { ok: false; error: string; fieldErrors?: Record<string, string[] | undefined> };

/**
 * The one shape of every server action: authorise → parse with zod → run. Server actions are public
 * POST endpoints, so the checks happen here whatever the UI showed.
 */
export function authorizedAction<S extends z.ZodType, T extends object>(
  options: { role?: UserRole; schema: S },
  run: (input: z.infer<S>, user: CurrentUser) => Promise<ActionResult<T>>,
): (input: unknown) => Promise<ActionResult<T>> {
  return async (input) => {
    const user = await getCurrentUser();
    if (!user) return { ok: false, error: "Your session has ended. Sign in again." };
    if (options.role && !hasRole(user.role, options.role)) {
      return { ok: false, error: "You are not allowed to do this." };
    }
    const raw = input instanceof FormData ? Object.fromEntries(input) : input;
    const parsed = options.schema.safeParse(raw);
    if (!parsed.success) {
      return {
        ok: false,
        error: "Please correct the highlighted fields.",
        fieldErrors: z.flattenError(parsed.error).fieldErrors as Record<string, string[]>,
      };
    }
    return run(parsed.data, user);
  };
}
