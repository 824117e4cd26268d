import "server-only";
import { eq, sql } from "drizzle-orm";
import { type Executor, getDb } from "@/db/client";
import { type UserPreferences, users } from "@/db/schema";

/** Merges `changes` into the user's stored preferences and returns them. */
export async function updateUserPreferences(
  { userId, changes }: { userId: number; changes: Partial<UserPreferences> },
  db: Executor = getDb(),
): Promise<UserPreferences> {
  const [row] = await db
    .update(users)
    .set({ preferences: sql`${users.preferences} || ${JSON.stringify(changes)}::jsonb` })
    .where(eq(users.id, userId))
    .returning({ preferences: users.preferences });
  return row?.preferences ?? {};
}
