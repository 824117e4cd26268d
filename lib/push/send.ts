import "server-only";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Executor, getDb, queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import { buildPayload, type NotificationInput, notificationInputSchema } from "./payload";

export const PUSH_CHANNEL = "push_messages";

/** Bad input to sendPushNotification: a message for people, and the fields at fault. */
export class PushInputError extends Error {
  constructor(
    message: string,
    readonly fieldErrors: Record<string, string[] | undefined> = {},
  ) {
    super(message);
    this.name = "PushInputError";
  }
}

export interface QueuedNotification {
  /** Queue rows created: one per device of every recipient. */
  queued: number;
  messageIds: number[];
  /** The stored content all those rows share (null when no recipient had a device). */
  payloadId: number | null;
  /** Recipients found (users named by userIds that do not exist are skipped). */
  users: number;
}

/**
 * Notifies users on every device they enabled: one user (`userName`), many (`userIds`) or a segment
 * (`{ role }` or "all"), in one statement. The content is stored once and each device gets a small queue
 * row pointing at it; the call returns at once and the sender delivers in the background as soon as the
 * caller's transaction commits (pass `tx` so that a rolled-back decision sends nothing).
 */
export async function sendPushNotification(
  input: NotificationInput,
  db: Executor = getDb(),
): Promise<QueuedNotification> {
  const parsed = notificationInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new PushInputError("The notification is not valid.", z.flattenError(parsed.error).fieldErrors);
  }
  const built = buildPayload(parsed.data, getEnv().APP_URL, `n-${randomUUID().slice(0, 8)}`);
  if (!built.ok) throw new PushInputError("The notification is not valid.", built.fieldErrors);
  const { userName, userIds, segment } = parsed.data;
  const username = userName?.toLowerCase();
  const recipients =
    username !== undefined
      ? sql`username = ${username}`
      : userIds !== undefined
        ? sql`id = any(${`{${userIds.join(",")}}`}::int[])`
        : segment === "all"
          ? sql`true`
          : sql`role = ${segment?.role ?? ""}`;
  const { notification } = built.payload;
  // One round trip: find the recipients, store the content once, insert a row per device, and NOTIFY the
  // sender (delivered when the surrounding transaction commits). The NOTIFY is skipped while older messages
  // are already due: the sender was woken for those and claims again whenever a send finishes, so it picks
  // these up as well (at worst after its poll interval). PostgreSQL serializes notifying commits, WAL
  // flush included, so a NOTIFY per notification would cap a fan-out at one commit per disk flush.
  const [result] = await queryRows<{
    users: number;
    payload_id: number | null;
    ids: number[] | null;
  }>(
    db,
    sql`
    with target as (select id from users where ${recipients}),
    devices as (
      select t.id as user_id, s.id as subscription_id
      from target t join push_subscriptions s on s.user_id = t.id),
    content as (
      insert into push_payloads (title, body, target_url, icon_url, payload, urgency, ttl_seconds)
      select ${notification.title}, ${notification.body}, ${notification.navigate},
        ${parsed.data.iconUrl ? notification.icon : null}, ${JSON.stringify(built.payload)}::jsonb,
        ${parsed.data.urgency}, ${parsed.data.ttlSeconds}
      where exists (select 1 from devices)
      returning id),
    queued as (
      insert into push_messages (user_id, subscription_id, payload_id, priority)
      select d.user_id, d.subscription_id, c.id, ${parsed.data.priority}::push_priority
      from devices d cross join content c
      order by d.subscription_id
      returning id),
    woken as (
      select pg_notify(${PUSH_CHANNEL}, '') from queued
      where not exists (
        select 1 from push_messages p
        where p.status = 'queued' and p.subscription_id is not null and p.priority = 'normal'
          and p.next_attempt_at <= now())
      limit 1)
    select (select count(*)::int from target) as users,
      (select id from content) as payload_id,
      (select array_agg(id order by id) from queued) as ids,
      (select count(*) from woken) as notified`,
  );
  if (username !== undefined && !result?.users) {
    throw new PushInputError(`There is no user "${username}".`, { userName: ["Unknown user."] });
  }
  const ids = (result?.ids ?? []).map(Number);
  return {
    queued: ids.length,
    messageIds: ids,
    payloadId: result?.payload_id ?? null,
    users: result?.users ?? 0,
  };
}
