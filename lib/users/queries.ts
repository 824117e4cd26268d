import "server-only";
import { eq } from "drizzle-orm";
import { type Executor, getDb } from "@/db/client";
import { type User, users } from "@/db/schema";

export async function getUserById({ id }: { id: number }, db: Executor = getDb()): Promise<User | null> {
  const [user] = await db.select().from(users).where(eq(users.id, id)).limit(1);
  return user ?? null;
}

export async function getUserByUsername(
  { username }: { username: string },
  db: Executor = getDb(),
): Promise<User | null> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(users.username, username.trim().toLowerCase()))
    .limit(1);
  return user ?? null;
}

/** Every user, for administrators (no password hashes). */
export function listUsers(db: Executor = getDb()) {
  return db
    .select({ id: users.id, username: users.username, displayName: users.displayName, role: users.role })
    .from(users)
    .orderBy(users.username);
}
