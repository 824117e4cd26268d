import "server-only";
import { desc, eq, inArray, sql } from "drizzle-orm";
import { PUSH_CHANNEL } from "@/db/channels";
import { type Executor, getDb, notify, queryRows } from "@/db/client";
import { type PushMessageStatus, pushMessages, pushPayloads, users } from "@/db/schema";

export const QUEUE_PAGE_LIMIT = 500;

/** The queue as administrators see it: newest first, without payloads. */
export function listPushMessages(
  { statuses }: { statuses?: PushMessageStatus[] } = {},
  db: Executor = getDb(),
) {
  return db
    .select({
      id: pushMessages.id,
      username: users.username,
      title: pushPayloads.title,
      body: pushPayloads.body,
      targetUrl: pushPayloads.targetUrl,
      priority: pushMessages.priority,
      status: pushMessages.status,
      attempts: pushMessages.attempts,
      lastError: pushMessages.lastError,
      lastStatusCode: pushMessages.lastStatusCode,
      createdAt: pushMessages.createdAt,
      nextAttemptAt: pushMessages.nextAttemptAt,
      sentAt: pushMessages.sentAt,
    })
    .from(pushMessages)
    .innerJoin(users, eq(users.id, pushMessages.userId))
    .innerJoin(pushPayloads, eq(pushPayloads.id, pushMessages.payloadId))
    .where(statuses?.length ? inArray(pushMessages.status, statuses) : undefined)
    .orderBy(desc(pushMessages.id))
    .limit(QUEUE_PAGE_LIMIT);
}

export async function countPushMessagesByStatus(db: Executor = getDb()) {
  const rows = await db
    .select({ status: pushMessages.status, count: sql<number>`count(*)::int` })
    .from(pushMessages)
    .groupBy(pushMessages.status);
  return Object.fromEntries(rows.map((row) => [row.status, row.count])) as Partial<
    Record<PushMessageStatus, number>
  >;
}

export async function removePushMessage({ id }: { id: number }, db: Executor = getDb()): Promise<boolean> {
  const rows = await db
    .delete(pushMessages)
    .where(eq(pushMessages.id, id))
    .returning({ id: pushMessages.id });
  return rows.length > 0;
}

/** "Push Queue": everything waiting for its retry time becomes due now, and the sender is woken. */
export async function pushQueueNow({ force }: { force: boolean }, db: Executor = getDb()): Promise<number> {
  const statuses = force ? sql`('queued', 'failed')` : sql`('queued')`;
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    update push_messages set status = 'queued', next_attempt_at = now(),
      attempts = case when status = 'failed' then 0 else attempts end
    where status in ${statuses} and subscription_id is not null
    returning id`,
  );
  await notify(db, PUSH_CHANNEL);
  return rows.length;
}
