import "server-only";
import { and, count, eq, gt, isNull, ne, sql } from "drizzle-orm";
import { type Executor, getDb } from "@/db/client";
import { userSessions } from "@/db/schema";
import { getEnv } from "@/lib/env";

/** A sign-in without "Remember me" ends with the browser, and on the server after a day at most. */
const BROWSER_SESSION_HOURS = 24;

export function sessionMaxAgeSeconds(): number {
  return getEnv().SESSION_MAX_AGE_DAYS * 24 * 60 * 60;
}

/** Records a new sign-in and returns its id (what the session cookie carries). */
export async function createUserSession(
  { userId, remember, userAgent = "" }: { userId: number; remember: boolean; userAgent?: string },
  db: Executor = getDb(),
): Promise<string> {
  const id = crypto.randomUUID();
  const seconds = remember
    ? sessionMaxAgeSeconds()
    : Math.min(sessionMaxAgeSeconds(), BROWSER_SESSION_HOURS * 3600);
  await db.insert(userSessions).values({
    id,
    userId,
    remember,
    userAgent: userAgent.slice(0, 512),
    expiresAt: sql`now() + make_interval(secs => ${seconds})`,
  });
  return id;
}

/** True while the session exists for this user, is not revoked and has not expired. */
export async function isSessionActive(
  { id, userId }: { id: string; userId: number },
  db: Executor = getDb(),
): Promise<boolean> {
  const [row] = await db
    .select({ id: userSessions.id })
    .from(userSessions)
    .where(
      and(
        eq(userSessions.id, id),
        eq(userSessions.userId, userId),
        isNull(userSessions.revokedAt),
        gt(userSessions.expiresAt, sql`now()`),
      ),
    );
  return Boolean(row);
}

/** Ends one session (sign-out). */
export async function revokeSession({ id }: { id: string }, db: Executor = getDb()): Promise<void> {
  await db
    .update(userSessions)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(userSessions.id, id), isNull(userSessions.revokedAt)));
}

/** Ends every session of a user, or every one but `except` (the one changing the password). */
export async function revokeUserSessions(
  { userId, except }: { userId: number; except?: string | null },
  db: Executor = getDb(),
): Promise<number> {
  const rows = await db
    .update(userSessions)
    .set({ revokedAt: sql`now()` })
    .where(
      and(
        eq(userSessions.userId, userId),
        isNull(userSessions.revokedAt),
        except ? ne(userSessions.id, except) : undefined,
      ),
    )
    .returning({ id: userSessions.id });
  return rows.length;
}

/** Active sessions per user, for the administrators' users page. */
export async function countActiveSessionsByUser(db: Executor = getDb()): Promise<Map<number, number>> {
  const rows = await db
    .select({ userId: userSessions.userId, sessions: count() })
    .from(userSessions)
    .where(and(isNull(userSessions.revokedAt), gt(userSessions.expiresAt, sql`now()`)))
    .groupBy(userSessions.userId);
  return new Map(rows.map((row) => [row.userId, row.sessions]));
}
