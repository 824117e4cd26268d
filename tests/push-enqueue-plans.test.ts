// The push enqueue reads what it needs, not the queue nor the stored contents (Q4), also with plans made
// while those tables were small. On a young install autovacuum analyzes push_payloads and push_messages at a
// few dozen rows; a connection's plans made then are kept until the next analyze (up to a minute or more),
// while a burst of notifications grows both tables by thousands. Before: each queued row's foreign-key check
// on its payload was planned as a sequential scan of push_payloads, so every enqueue read all stored
// contents (a burst slowed down quadratically: 6,800 → 2,400 → 560 calls/s over 30,000 calls), and the
// "is anything already due" probe that decides whether to wake the sender read past every sent message.
// The sender's claim and its "sent" update are held to the same bound (they already met it).
// "Rows read" is PostgreSQL's own count for the transaction (pg_stat_xact_user_tables).
import { type SQL, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Executor, queryRows } from "@/db/client";
import { sendPushNotification } from "@/lib/push/send";
import { claimDueMessages, markSent, pushSenderConsumer } from "@/lib/push/sender";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const USERS = 50;
const GROWTH = 4_000;
const CALLS = 100;

const notification = (i: number) => ({
  userName: `young${1 + (i % USERS)}`,
  title: "Reimbursement Approved",
  body: `Your reimbursement #${i} was approved.`,
  targetUrl: `/reimbursements/${i}`,
});

/** Rows read so far in this transaction, per push table (sequential and index fetches). */
async function readsSoFar(tx: Executor): Promise<Record<string, number>> {
  const rows = await queryRows<{ relname: string; n: number }>(
    tx,
    sql`select relname, (coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0))::int as n
        from pg_stat_xact_user_tables where relname in ('push_payloads', 'push_messages')`,
  );
  return Object.fromEntries(rows.map((row) => [row.relname, Number(row.n)]));
}

describe("the push enqueue on a young install", () => {
  let fresh: FreshDatabase;

  /**
   * With nothing else waiting, queues one row for the first user with `target` (its subscription_id and
   * payload_id), has a sender claim and process it, and returns what was claimed, the row after, and what
   * the next claim finds.
   */
  async function sendAStrayRow(target: SQL) {
    const db = fresh.handle.db;
    await db.execute(sql`update push_messages set status = 'sent', sent_at = now() where status = 'queued'`);
    const [stray] = await queryRows<{ id: number }>(
      db,
      sql`insert into push_messages (user_id, subscription_id, payload_id)
          select s.user_id, ${target} from push_subscriptions s order by s.id limit 1
          returning id`,
    );
    const consumer = pushSenderConsumer();
    const claimArgs = { workerId: "stray-test", limit: 8, leaseMs: 30_000 };
    const claimed = await consumer.claim(db, claimArgs);
    expect(claimed.map((job) => Number(job.id))).toEqual([Number(stray?.id)]);
    for (const job of claimed) {
      await consumer.process(job, { db, workerId: "stray-test", signal: new AbortController().signal });
    }
    const [row] = await queryRows<{ status: string; last_error: string | null }>(
      db,
      sql`select status, last_error from push_messages where id = ${stray?.id}`,
    );
    return { claimed, row, nextClaim: await consumer.claim(db, claimArgs) };
  }

  beforeAll(async () => {
    fresh = await freshDatabase("an_test_push_enqueue_plans", 2);
    const db = fresh.handle.db;
    // Only this test's analyze decides the statistics: autovacuum must not refresh them half-way.
    await db.execute(sql`alter table push_payloads set (autovacuum_enabled = off)`);
    await db.execute(sql`alter table push_messages set (autovacuum_enabled = off)`);
    await db.execute(sql`
      insert into users (username, display_name, password_hash)
      select 'young' || g, 'Young ' || g, 'not-a-hash' from generate_series(1, ${USERS}) g`);
    await db.execute(sql`
      insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
      select id, 'https://push.example.net/young/' || id, 'BNotUsedBecauseNothingIsSent', 'not-used', 'test'
      from users where username like 'young%'`);
    // The first notifications, delivered; then the statistics autovacuum would take at this size.
    for (let i = 0; i < 10; i++) await sendPushNotification(notification(i), db);
    await db.execute(sql`update push_messages set status = 'sent', sent_at = now()`);
    await db.execute(sql`analyze push_payloads, push_messages, users, push_subscriptions`);
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  it("reads a few rows per call, not the stored contents or the sent messages, as both grow", async () => {
    let perCall: Record<string, number> = {};
    let queued = 0;
    await fresh.handle.db.transaction(async (tx) => {
      // This connection plans its statements now, on the small tables (a prepared statement keeps its plan).
      for (let i = 10; i < 20; i++) await sendPushNotification(notification(i), tx);
      await tx.execute(sql`update push_messages set status = 'sent', sent_at = now()`);
      // A burst delivered since: thousands of contents and sent messages, no analyze yet.
      await tx.execute(sql`
        with content as (
          insert into push_payloads (title, body, target_url, payload)
          select 'Earlier', 'Sent before', '/', '{}'::jsonb from generate_series(1, ${GROWTH})
          returning id)
        insert into push_messages (user_id, subscription_id, payload_id, status, sent_at)
        select s.user_id, s.id, c.id, 'sent', now()
        from content c, lateral (select id, user_id from push_subscriptions order by id limit 1) s`);
      const before = await readsSoFar(tx);
      for (let i = 20; i < 20 + CALLS; i++) await sendPushNotification(notification(i), tx);
      const after = await readsSoFar(tx);
      perCall = Object.fromEntries(
        Object.keys(after).map((table) => [table, ((after[table] ?? 0) - (before[table] ?? 0)) / CALLS]),
      );
      queued =
        (
          await queryRows<{ n: number }>(
            tx,
            sql`select count(*)::int as n from push_messages where status = 'queued'`,
          )
        )[0]?.n ?? 0;
    });
    // Every call queued its row (one device each)…
    expect(queued).toBe(CALLS);
    // …and read a handful of rows of each table (before: push_payloads ~4,060 and push_messages ~4,000
    // per call, i.e. each table whole).
    expect(perCall.push_payloads ?? 0).toBeLessThan(10);
    expect(perCall.push_messages ?? 0).toBeLessThan(10);
  });

  it("the sender's claim and its sent update read a few rows per message, not the tables", async () => {
    let perMessage: Record<string, number> = {};
    let claimed = 0;
    await fresh.handle.db.transaction(async (tx) => {
      const claim = async () => {
        const rows = await queryRows<{ id: number }>(
          tx,
          claimDueMessages({ workerId: "plans-test", limit: 8, leaseMs: 30_000 }),
          { prepared: true },
        );
        await markSent(
          tx as never,
          "plans-test",
          rows.map((row) => ({ id: Number(row.id), statusCode: 201 })),
        );
        return rows.length;
      };
      // Planned on the small tables: a few notifications, claimed and recorded as sent.
      for (let i = 200; i < 210; i++) await sendPushNotification(notification(i), tx);
      for (let i = 0; i < 6; i++) await claim();
      // Thousands delivered since, and as many queued now; no analyze yet.
      await tx.execute(sql`
        with content as (
          insert into push_payloads (title, body, target_url, payload)
          select 'Burst', 'Burst', '/', '{}'::jsonb from generate_series(1, ${GROWTH * 2}) g
          returning id)
        insert into push_messages (user_id, subscription_id, payload_id, status, sent_at)
        select s.user_id, s.id, c.id, (case when c.id % 2 = 0 then 'sent' else 'queued' end)::push_message_status,
          case when c.id % 2 = 0 then now() end
        from content c, lateral (select id, user_id from push_subscriptions order by id limit 1) s`);
      const before = await readsSoFar(tx);
      for (let i = 0; i < 20; i++) claimed += await claim();
      const after = await readsSoFar(tx);
      perMessage = Object.fromEntries(
        Object.keys(after).map((table) => [table, ((after[table] ?? 0) - (before[table] ?? 0)) / claimed]),
      );
    });
    expect(claimed).toBe(160);
    expect(perMessage.push_payloads ?? 0).toBeLessThan(10);
    expect(perMessage.push_messages ?? 0).toBeLessThan(10);
  });

  it("without a foreign key, the purge still keeps every content a queue row points at", async () => {
    const db = fresh.handle.db;
    // Contents from 8 days ago: one still waited for by a row (a device that keeps failing), one whose rows
    // were all delivered and purged, one sent a week ago whose row is still kept; and one from today.
    const [ids] = await queryRows<{ waited: number; orphan: number; recent: number; today: number }>(
      db,
      sql`
      with content as (
        insert into push_payloads (title, body, target_url, payload, created_at)
        select t, '', '/', '{}'::jsonb, now() - make_interval(days => d)
        from (values ('waited', 8), ('orphan', 8), ('recent', 8), ('today', 0)) as v(t, d)
        returning id, title),
      rows as (
        insert into push_messages (user_id, subscription_id, payload_id, status, sent_at, created_at)
        select s.user_id, s.id, c.id, (case when c.title = 'waited' then 'queued' else 'sent' end)::push_message_status,
          now() - interval '6 days', now() - interval '8 days'
        from content c, lateral (select id, user_id from push_subscriptions order by id limit 1) s
        where c.title in ('waited', 'recent'))
      select (select id from content where title = 'waited') as waited,
        (select id from content where title = 'orphan') as orphan,
        (select id from content where title = 'recent') as recent,
        (select id from content where title = 'today') as today`,
    );
    await pushSenderConsumer().recoverExpired?.(db);
    const left = await queryRows<{ id: number }>(
      db,
      sql`select id from push_payloads where id = any(${`{${Object.values(ids ?? {}).join(",")}}`}::int[]) order by id`,
    );
    expect(left.map((row) => Number(row.id))).toEqual([ids?.waited, ids?.recent, ids?.today].map(Number));
    // Every queue row still finds its content.
    const [orphans] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from push_messages m
          where not exists (select 1 from push_payloads p where p.id = m.payload_id)`,
    );
    expect(orphans?.n).toBe(0);
  });

  it("a queue row whose content is gone fails with a clear error instead of staying due", async () => {
    const outcome = await sendAStrayRow(sql`s.id, (select coalesce(max(id), 0) + 1000 from push_payloads)`);
    expect(outcome.row).toEqual({
      status: "failed",
      last_error: "The notification's content is gone: nothing to send.",
    });
    // Nothing is left due: the next claim finds nothing.
    expect(outcome.nextClaim).toEqual([]);
  });

  it("the sender's housekeeping and a device's removal read what they change, not the whole queue", async () => {
    const db = fresh.handle.db;
    // A deep queue for one device (half delivered, half waiting) and a device with 3 rows waiting, analyzed.
    const [device] = await queryRows<{ id: number; user_id: number }>(
      db,
      sql`insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
          select id, 'https://push.example.net/leaving', 'BNotUsedBecauseNothingIsSent', 'not-used', 'test'
          from users where username = 'young1'
          returning id, user_id`,
    );
    await db.execute(sql`
      with content as (
        insert into push_payloads (title, body, target_url, payload)
        select 'Deep', 'Deep', '/', '{}'::jsonb from generate_series(1, ${GROWTH * 2}) g
        returning id)
      insert into push_messages (user_id, subscription_id, payload_id, status, sent_at)
      select s.user_id, s.id, c.id, (case when c.id % 2 = 0 then 'sent' else 'queued' end)::push_message_status,
        case when c.id % 2 = 0 then now() end
      from content c, lateral (select id, user_id from push_subscriptions order by id limit 1) s`);
    const leaving = await queryRows<{ id: number }>(
      db,
      sql`insert into push_messages (user_id, subscription_id, payload_id)
          select ${device?.user_id}, ${device?.id}, id from push_payloads order by id desc limit 3
          returning id`,
    );
    await db.execute(sql`analyze push_payloads, push_messages`);
    let reads: Record<string, number> = {};
    await db.transaction(async (tx) => {
      const before = await readsSoFar(tx);
      // A new sender's first sweep (its retention purge included), the device removed, the next sweep.
      const consumer = pushSenderConsumer();
      await consumer.recoverExpired?.(tx as never);
      await tx.execute(sql`delete from push_subscriptions where id = ${device?.id}`);
      await consumer.recoverExpired?.(tx as never);
      const after = await readsSoFar(tx);
      reads = Object.fromEntries(
        Object.keys(after).map((table) => [table, (after[table] ?? 0) - (before[table] ?? 0)]),
      );
    });
    const rows = await queryRows<{
      status: string;
      last_error: string | null;
      subscription_id: number | null;
    }>(
      db,
      sql`select status, last_error, subscription_id from push_messages
          where id = any(${`{${leaving.map((row) => row.id).join(",")}}`}::int[])`,
    );
    expect(rows).toEqual(
      Array(3).fill({
        status: "failed",
        last_error: "The device was removed before delivery.",
        subscription_id: null,
      }),
    );
    // Before migration 0021: each sweep and the removal read all of push_messages (8,000+ rows each), and the
    // purge every stored content.
    expect(reads.push_messages ?? 0).toBeLessThan(100);
    expect(reads.push_payloads ?? 0).toBeLessThan(100);
  });

  it("a queue row whose device went while it was enqueued fails as a removed device's, not left due", async () => {
    // What a removal committed between the enqueue's read of the device and its own commit leaves (no
    // foreign key since migration 0022): a row pointing at a device that no longer exists.
    const outcome = await sendAStrayRow(
      sql`(select max(id) + 1000 from push_subscriptions), (select max(id) from push_payloads)`,
    );
    expect(outcome.claimed.map((job) => job.endpoint)).toEqual([null]);
    expect(outcome.row).toEqual({ status: "failed", last_error: "The device was removed before delivery." });
    expect(outcome.nextClaim).toEqual([]);
  });

  it("the enqueue writes nothing to the user's and the device's rows; removing a user removes their queue", async () => {
    const db = fresh.handle.db;
    const [someone] = await queryRows<{ id: number; device: number }>(
      db,
      sql`with u as (
            insert into users (username, display_name, password_hash)
            values ('leaving-user', 'Leaving', 'not-a-hash') returning id)
          insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
          select id, 'https://push.example.net/leaving-user', 'BNotUsedBecauseNothingIsSent', 'not-used', 'test'
          from u returning user_id as id, id as device`,
    );
    // Each queued row's foreign-key check took a KEY SHARE lock on its user and its device: a write to both
    // rows (their xmax) and to the WAL, for every notification.
    const xmax = async () =>
      queryRows<{ user_xmax: string; device_xmax: string }>(
        db,
        sql`select (select xmax::text from users where id = ${someone?.id}) as user_xmax,
              (select xmax::text from push_subscriptions where id = ${someone?.device}) as device_xmax`,
      );
    // (Adding the device locked the user the same way, its own foreign key: the rows are compared with that.)
    const before = await xmax();
    await sendPushNotification({ userName: "leaving-user", title: "Hello", targetUrl: "/" }, db);
    await db.transaction(async (tx) => {
      await sendPushNotification({ userName: "leaving-user", title: "Again", targetUrl: "/" }, tx);
    });
    expect(await xmax()).toEqual(before);
    const queuedFor = async () =>
      (
        await queryRows<{ n: number }>(
          db,
          sql`select count(*)::int as n from push_messages where user_id = ${someone?.id}`,
        )
      )[0]?.n;
    expect(await queuedFor()).toBe(2);
    await db.execute(sql`delete from users where id = ${someone?.id}`);
    expect(await queuedFor()).toBe(0);
  });
});

describe("the enqueue's wake-up probe on a queue not vacuumed since a burst", () => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await freshDatabase("an_test_push_wake_probe", 1);
    // As on a busy queue between two autovacuum runs: the claimed rows' index entries stay.
    await fresh.handle.db.execute(sql`alter table push_messages set (autovacuum_enabled = off)`);
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  it("the wake-up probe reads the newest due entries, not every message claimed since the last vacuum", async () => {
    // 20,000 messages that became due an hour ago, all claimed since: a claimed row leaves the due index's
    // predicate, but its entry stays until VACUUM (autovacuum is off for this table here, as on a busy queue
    // between two of its runs). Migration 0019's probe read past all of them: ~500 pages at 100,000.
    const marker = -24;
    const db = fresh.handle.db;
    await db.execute(sql`
      insert into push_messages (user_id, subscription_id, payload_id, next_attempt_at)
      select 1, 1, ${marker}, now() - interval '1 hour' + g * interval '1 ms' from generate_series(1, 20000) g`);
    await db.execute(
      sql`update push_messages set status = 'sent', sent_at = now() where payload_id = ${marker}`,
    );
    /** The probe's answer and the buffers it read (its first call on a connection also reads the catalog). */
    const probe = async (tx: Executor) => {
      const [row] = await queryRows<{
        "QUERY PLAN": [{ Plan: { "Shared Hit Blocks": number; "Shared Read Blocks": number } }];
      }>(tx, sql`explain (analyze, buffers, format json) select push_messages_due_exist()`);
      const plan = row?.["QUERY PLAN"][0]?.Plan;
      const [answer] = await queryRows<{ due: boolean }>(tx, sql`select push_messages_due_exist() as due`);
      return {
        due: answer?.due,
        pages: (plan?.["Shared Hit Blocks"] ?? 0) + (plan?.["Shared Read Blocks"] ?? 0),
      };
    };
    try {
      await db.transaction(async (tx) => {
        await probe(tx);
        // Nothing waits: the enqueue will wake the senders. Read: the last second's entries only.
        const idle = await probe(tx);
        expect(idle.due).toBe(false);
        expect(idle.pages).toBeLessThan(20);
        // A message due now waits: the senders were woken for it. Read: the newest entry.
        await tx.execute(sql`
          insert into push_messages (user_id, subscription_id, payload_id) values (1, 1, ${marker})`);
        const waiting = await probe(tx);
        expect(waiting.due).toBe(true);
        expect(waiting.pages).toBeLessThan(20);
      });
      // Only a message that became due a minute ago is still queued: the senders woken for it have not taken
      // it, so the next enqueue wakes them again (0019 held the NOTIFY back).
      await db.execute(sql`
        update push_messages set next_attempt_at = now() - interval '1 minute'
        where payload_id = ${marker} and status = 'queued'`);
      expect((await probe(db)).due).toBe(false);
    } finally {
      await db.execute(sql`delete from push_messages where payload_id = ${marker}`);
    }
  });
});
