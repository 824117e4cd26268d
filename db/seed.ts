import "server-only";
import { eq } from "drizzle-orm";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import type { Executor } from "./client";
import { departments, type UserRole, users } from "./schema";

export const DEMO_USERS: { username: string; displayName: string; role: UserRole }[] = [
  { username: "bo", displayName: "Bo", role: "employee" },
  { username: "steve", displayName: "Steve", role: "employee" },
  { username: "pat", displayName: "Pat", role: "approver" },
  { username: "admin", displayName: "Admin", role: "admin" },
];

export const DEMO_DEPARTMENTS = [
  { deptno: 10, dname: "ACCOUNTING", loc: "NEW YORK" },
  { deptno: 20, dname: "RESEARCH", loc: "DALLAS" },
  { deptno: 30, dname: "SALES", loc: "CHICAGO" },
  { deptno: 40, dname: "OPERATIONS", loc: "BOSTON" },
];

/**
 * Idempotent: creates the demo users and departments when missing. A demo user whose password no longer
 * matches DEMO_PASSWORD gets it again, so changing the setting and restarting is enough.
 */
export async function seedDatabase(db: Executor, demoPassword: string): Promise<void> {
  const existing = await db.select().from(users);
  for (const demo of DEMO_USERS) {
    const found = existing.find((user) => user.username === demo.username);
    if (!found) {
      await db
        .insert(users)
        .values({ ...demo, passwordHash: await hashPassword(demoPassword) })
        .onConflictDoNothing({ target: users.username });
    } else if (!(await verifyPassword(demoPassword, found.passwordHash))) {
      await db
        .update(users)
        .set({ passwordHash: await hashPassword(demoPassword) })
        .where(eq(users.id, found.id));
    }
  }
  await db.insert(departments).values(DEMO_DEPARTMENTS).onConflictDoNothing({ target: departments.deptno });
}
