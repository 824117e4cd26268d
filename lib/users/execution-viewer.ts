import type { UserRole } from "@/db/schema/users";
import { hasRole } from "@/lib/auth/roles";
import type { Viewer } from "@/lib/chains";

/** The app's roles turned into what the chains engine asks of a viewer: administrators see everything. */
export function executionViewer(user: { id: number; role: UserRole }): Viewer {
  return { userId: user.id, mayAbortAny: hasRole(user.role, "admin") };
}
