import "server-only";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { PgTransaction } from "drizzle-orm/pg-core";
import { z } from "zod";
import { Batcher, batcherPerHandle } from "@/db/batch";
import { PUSH_CHANNEL } from "@/db/channels";
import { type Executor, getDb, intArray, queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import type { LocalIntake } from "@/lib/worker/consumer";
import { buildPayload, type NotificationInput, notificationInputSchema } from "./payload";
import { localSenderFor, type PushJob } from "./sender";

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
  const { notification } = built.payload;
  const content: Content = {
    title: notification.title,
    body: notification.body,
    target_url: notification.navigate,
    icon_url: parsed.data.iconUrl ? notification.icon : null,
    payload: built.payload,
    urgency: parsed.data.urgency,
    ttl_seconds: parsed.data.ttlSeconds,
    priority: parsed.data.priority,
  };
  if (userName !== undefined) {
    const username = userName.toLowerCase();
    const item = { ...content, username };
    // Inside the caller's transaction: its own statement. Otherwise calls made at the same time share one.
    const [queued] =
      db instanceof PgTransaction ? await enqueueForUsers(db, [item]) : [await coalescerFor(db).add(item)];
    if (!queued?.users) {
      throw new PushInputError(`There is no user "${username}".`, { userName: ["Unknown user."] });
    }
    return queued;
  }
  const recipients =
    userIds !== undefined
      ? sql`id = any(${intArray(userIds)})`
      : segment === "all"
        ? sql`true`
        : sql`role = ${segment?.role ?? ""}`;
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
      select ${content.title}, ${content.body}, ${content.target_url}, ${content.icon_url},
        ${JSON.stringify(content.payload)}::jsonb, ${content.urgency}, ${content.ttl_seconds}
      where exists (select 1 from devices)
      returning id),
    queued as (
      insert into push_messages (user_id, subscription_id, payload_id, priority)
      select d.user_id, d.subscription_id, c.id, ${content.priority}::push_priority
      from devices d cross join content c
      order by d.subscription_id
      returning id, status),
    ${wakeSender}
    select (select count(*)::int from target) as users,
      (select id from content) as payload_id,
      (select array_agg(id order by id) from queued) as ids,
      (select count(*) from woken) as notified`,
  );
  const ids = (result?.ids ?? []).map(Number);
  return {
    queued: ids.length,
    messageIds: ids,
    payloadId: result?.payload_id ?? null,
    users: result?.users ?? 0,
  };
}

interface Content {
  title: string;
  body: string;
  target_url: string;
  icon_url: string | null;
  payload: unknown;
  urgency: string;
  ttl_seconds: number;
  priority: "normal" | "low";
}

type UserItem = Content & { username: string };

// NOTIFY the sender (delivered when the surrounding transaction commits), but not while messages that became
// due in the last second are still queued: the sender was woken for those and claims again whenever a send
// finishes, so it picks these up as well (at worst after its poll interval). PostgreSQL serializes notifying
// commits, WAL flush included, so a NOTIFY per notification would cap a fan-out at one commit per disk flush.
// The check is a function (migrations 0019, 0024) so that it reads the due index whatever the table's size
// when it was planned, from its newest end (not past every entry claimed since the last VACUUM).
// Rows written already leased to this process's sender (`enqueueForUsers`) were never due: no wake-up.
const wakeSender = sql`
    woken as (
      select pg_notify(${PUSH_CHANNEL}, '') from queued
      where status = 'queued' and not (select push_messages_due_exist())
      limit 1)`;

/**
 * One statement for many single-user notifications: looks the users up, stores each content once (ids
 * drawn first so each queue row can point at its own), inserts a row per device, wakes the sender.
 * Results come back in the order of `items`. The statement is prepared, so its plan is generic: planned for
 * jsonb_to_recordset's default of 100 input rows, joins to users and devices became hash joins over both
 * whole tables (5 ms per statement at 10,000 users, auto_explain). Each lookup is therefore a LATERAL
 * subquery kept apart by `offset 0`: one index probe per input row, whatever the tables' size.
 *
 * With `local` (a push sender this process runs on the same database, outside any transaction of the
 * caller's), up to the slots it can spare of the real (normal-priority) rows are written already leased to
 * it, as its claim would leave them, and handed to it when the statement has committed: no claim query and
 * no NOTIFY for them. The rest are queued as usual. A crash in between leaves them leased: they are claimed
 * again when the lease expires, like any claimed row whose worker died.
 */
async function enqueueForUsers(
  db: Executor,
  items: UserItem[],
  local?: LocalIntake<PushJob>,
): Promise<QueuedNotification[]> {
  const eligible = items.filter((item) => item.priority === "normal").length;
  // A user may have several devices: hold a few slots per notification, give back what was not used.
  const slots = local && eligible > 0 ? local.reserve(eligible * 4) : 0;
  let jobs: PushJob[] = [];
  let leftWaiting = false;
  try {
    const rows = await queryRows<{
      n: number;
      users: number;
      payload_id: number | null;
      ids: number[] | null;
      leased: string | null;
      payload: string | null;
      key_version: number;
    }>(
      db,
      sql`
    with input as materialized (
      select i.*, nextval(pg_get_serial_sequence('push_payloads', 'id'))::int as pid
      from jsonb_to_recordset(${JSON.stringify(items.map((item, n) => ({ ...item, n })))}::jsonb) as i(
        n int, username text, title text, body text, target_url text, icon_url text, payload jsonb,
        urgency text, ttl_seconds int, priority push_priority)),
    recipients as (
      select i.n, u.id as user_id from input i
      cross join lateral (select id from users where username = i.username offset 0) u),
    devices as (
      select r.n, r.user_id, s.id as subscription_id, s.endpoint, s.p256dh, s.auth from recipients r
      cross join lateral (
        select id, endpoint, p256dh, auth from push_subscriptions where user_id = r.user_id offset 0) s),
    placed as materialized (
      select d.*, i.pid, i.priority, i.priority = 'normal'
        and row_number() over (partition by i.priority order by d.subscription_id) <= ${slots}::int as leased
      from devices d join input i on i.n = d.n),
    content as (
      insert into push_payloads (id, title, body, target_url, icon_url, payload, urgency, ttl_seconds)
      overriding system value
      select pid, title, body, target_url, icon_url, payload, urgency, ttl_seconds from input i
      where exists (select 1 from devices d where d.n = i.n)
      returning id),
    queued as (
      insert into push_messages (user_id, subscription_id, payload_id, priority, status, attempts, lease_owner,
        lease_expires_at)
      select user_id, subscription_id, pid, priority,
        (case when leased then 'sending' else 'queued' end)::push_message_status, case when leased then 1 else 0 end,
        case when leased then ${local?.workerId ?? null}::text end,
        case when leased then now() + make_interval(secs => ${(local?.leaseMs ?? 0) / 1000}) end
      from placed
      order by subscription_id
      returning id, payload_id, subscription_id, status),
    ${wakeSender},
    handed as (
      select q.payload_id, json_agg(json_build_array(q.id, p.subscription_id, p.endpoint, p.p256dh, p.auth))::text
        as leased
      from queued q join placed p on p.subscription_id = q.subscription_id and p.pid = q.payload_id
      where q.status = 'sending'
      group by q.payload_id)
    select i.n, (select count(*)::int from recipients r where r.n = i.n) as users,
      (select c.id from content c where c.id = i.pid) as payload_id,
      (select array_agg(q.id order by q.id) from queued q where q.payload_id = i.pid) as ids,
      h.leased, case when h.leased is not null then i.payload::text end as payload,
      (select version from push_credentials where id = 1) as key_version,
      (select count(*) from woken) as notified
    from input i left join handed h on h.payload_id = i.pid
    order by i.n`,
      { prepared: true },
    );
    jobs = rows.flatMap((row) => {
      const item = items[row.n];
      if (!item || row.payload_id === null) return [];
      const leased = row.leased ? (JSON.parse(row.leased) as [number, number, string, string, string][]) : [];
      if (item.priority === "normal" && (row.ids?.length ?? 0) > leased.length) leftWaiting = true;
      return leased.map(([id, subscriptionId, endpoint, p256dh, auth]) => ({
        id,
        subscription_id: subscriptionId,
        endpoint,
        p256dh,
        auth,
        payload_id: Number(row.payload_id),
        payload: row.payload,
        urgency: item.urgency as PushJob["urgency"],
        ttl_seconds: item.ttl_seconds,
        attempts: 1,
        key_version: row.key_version,
      }));
    });
    return rows.map((row) => {
      const ids = (row.ids ?? []).map(Number);
      return { queued: ids.length, messageIds: ids, payloadId: row.payload_id, users: row.users };
    });
  } finally {
    if (local && slots > 0) local.adopt(jobs, slots, leftWaiting);
  }
}

/**
 * Single-user calls made outside a transaction at the same time (a fan-out from many requests or a loop)
 * share one statement: fewer round trips, commits and socket writes; each caller gets its own result.
 * Two statements in flight: the next group is written while PostgreSQL runs the last (16 callers with the
 * sender in the same process: 2,248–2,269 → 2,359–2,373 msg/s delivered, bench push part).
 */
const coalescerFor = batcherPerHandle(
  (db: Executor) =>
    new Batcher<UserItem, QueuedNotification | undefined>(
      (items) => enqueueForUsers(db, items, localSenderFor(db)),
      {
        maxItems: 256,
        maxInFlight: 2,
      },
    ),
);
