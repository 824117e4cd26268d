import type { UserRole } from "@/db/schema/users";

const rank: Record<UserRole, number> = { employee: 0, approver: 1, admin: 2 };

/** Roles nest: an admin may do what an approver may, an approver what an employee may. */
export function hasRole(actual: UserRole, required: UserRole): boolean {
  return rank[actual] >= rank[required];
}

export const roleLabels: Record<UserRole, string> = {
  employee: "Employee",
  approver: "Approver",
  admin: "Administrator",
};
