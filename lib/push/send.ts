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

/**
 * Notifies a user on every device they enabled. Enqueues one row per device and returns at once; the
 * sender delivers in the background as soon as the caller's transaction commits (pass `tx` so that a
 * rolled-back decision sends nothing).
 */
export async function sendPushNotification(
  input: NotificationInput,
  db: Executor = getDb(),
): Promise<{ queued: number; messageIds: number[] }> {
  const parsed = notificationInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new PushInputError("The notification is not valid.", z.flattenError(parsed.error).fieldErrors);
  }
  const built = buildPayload(parsed.data, getEnv().APP_URL, `n-${randomUUID().slice(0, 8)}`);
  if (!built.ok) throw new PushInputError("The notification is not valid.", built.fieldErrors);
  const username = parsed.data.userName.toLowerCase();
  const { notification } = built.payload;
  // One round trip: look the user up, insert a row per device, and NOTIFY the sender (delivered when the
  // surrounding transaction commits). The NOTIFY is skipped while older messages are already due: the
  // sender was woken for those and claims again whenever a send finishes, so it picks these up as well
  // (at worst after its poll interval). PostgreSQL serializes notifying commits, WAL flush included, so a
  // NOTIFY per notification would cap a fan-out at one commit per disk flush.
  const [result] = await queryRows<{ user_id: number | null; ids: number[] | null }>(
    db,
    sql`
    with target as (select id from users where username = ${username}),
    queued as (
      insert into push_messages
        (user_id, subscription_id, title, body, target_url, icon_url, payload, urgency, ttl_seconds)
      select t.id, s.id, ${notification.title}, ${notification.body}, ${notification.navigate},
        ${parsed.data.iconUrl ? notification.icon : null}, ${JSON.stringify(built.payload)}::jsonb,
        ${parsed.data.urgency}, ${parsed.data.ttlSeconds}
      from target t join push_subscriptions s on s.user_id = t.id
      order by s.id
      returning id),
    woken as (
      select pg_notify(${PUSH_CHANNEL}, '') from queued
      where not exists (
        select 1 from push_messages p
        where p.status = 'queued' and p.next_attempt_at <= now() and p.subscription_id is not null)
      limit 1)
    select (select id from target) as user_id,
      (select array_agg(id order by id) from queued) as ids,
      (select count(*) from woken) as notified`,
  );
  if (!result?.user_id) {
    throw new PushInputError(`There is no user "${username}".`, { userName: ["Unknown user."] });
  }
  const ids = (result.ids ?? []).map(Number);
  return { queued: ids.length, messageIds: ids };
}
