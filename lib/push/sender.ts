import "server-only";
import { sql } from "drizzle-orm";
import webpush from "web-push";
import { PUSH_CHANNEL } from "@/db/channels";
import { type Database, intArray, queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import type { Consumer, LocalIntake } from "@/lib/worker/consumer";
import { checkEndpoint, type HostPattern, parseAllowList } from "./allow-list";
import { getVapidKeys, type VapidKeys } from "./credentials";
import { classifyDelivery, type DeliveryOutcome } from "./delivery-outcome";
import { EncryptionThreads } from "./encryption-threads";
import { pushClaimSeconds, pushDeliveries } from "./metrics";
import { PushTransport } from "./transport";

export interface PushJob {
  id: number;
  subscription_id: number;
  /** null (the three of them): the device is gone; the attempt fails. */
  endpoint: string | null;
  p256dh: string | null;
  auth: string | null;
  payload_id: number;
  /** null: the stored content is gone (the queue row has no foreign key to it); the attempt fails. */
  payload: string | null;
  urgency: "very-low" | "low" | "normal" | "high";
  ttl_seconds: number;
  attempts: number;
  key_version: number;
}

const SEND_TIMEOUT_MS = 10_000;
const DEVICE_REMOVED = "The device was removed before delivery.";
/** A VAPID JWT is valid for 12 h and reused for 11 h: signing costs about twice the encryption. */
const VAPID_TTL_S = 12 * 3600;
const VAPID_REUSE_MS = 11 * 3600 * 1000;
const SENT_RETENTION_DAYS = 7;
const PURGE_EVERY_MS = 60_000;
/** Tries to record an outcome (postgres.js reconnects between them): 0.5 s, 1 s, 2 s, 4 s apart. */
const RECORD_ATTEMPTS = 5;

/** Per-process state of the sender: keys, cached Authorization headers, connections to push services. */
export class PushSender {
  private keys: VapidKeys | null = null;
  private readonly authHeaders = new Map<string, { header: string; until: number }>();
  private readonly transport: PushTransport;
  private readonly allowList: HostPattern[];
  private readonly encryption = new EncryptionThreads();

  constructor(maxSockets = 64) {
    const env = getEnv();
    this.allowList = parseAllowList(env.PUSH_ENDPOINT_ALLOWLIST);
    this.transport = new PushTransport({
      proxy: env.PUSH_PROXY ?? env.HTTPS_PROXY,
      maxSockets,
      timeoutMs: SEND_TIMEOUT_MS,
    });
  }

  private async keysFor(db: Database, version: number): Promise<VapidKeys> {
    if (!this.keys || this.keys.version !== version) {
      this.keys = await getVapidKeys(db);
      this.authHeaders.clear();
    }
    return this.keys;
  }

  private authorization(origin: string, keys: VapidKeys): string {
    const cached = this.authHeaders.get(origin);
    if (cached && cached.until > Date.now()) return cached.header;
    const { Authorization } = webpush.getVapidHeaders(
      origin,
      getEnv().VAPID_SUBJECT,
      keys.publicKey,
      keys.privateKey,
      "aes128gcm",
      Math.floor(Date.now() / 1000) + VAPID_TTL_S,
    ) as { Authorization: string };
    this.authHeaders.set(origin, { header: Authorization, until: Date.now() + VAPID_REUSE_MS });
    return Authorization;
  }

  /**
   * One attempt: encrypt with a fresh key (web-push's `encrypt`, off the main thread: new ECDH key pair and
   * salt per message) and POST it ourselves to the WHATWG-parsed URL that passed the allow-list, on the
   * origin's connection (HTTP/2 where offered), with the origin's cached VAPID Authorization header.
   */
  async deliver(db: Database, job: PushJob): Promise<DeliveryOutcome> {
    if (job.payload === null) {
      return {
        kind: "failed",
        statusCode: null,
        error: "The notification's content is gone: nothing to send.",
      };
    }
    if (job.endpoint === null || job.p256dh === null || job.auth === null) {
      return { kind: "failed", statusCode: null, error: DEVICE_REMOVED };
    }
    const checked = checkEndpoint(job.endpoint, this.allowList);
    if (!checked.ok) return { kind: "failed", statusCode: null, error: checked.reason };
    const origin = checked.url.origin;
    const keys = await this.keysFor(db, job.key_version);
    const cipherText = await this.encryption.encrypt(job.p256dh, job.auth, job.payload);
    // Lower-case names, as HTTP/2 requires (HTTP/1.1 ignores case).
    const headers = {
      authorization: this.authorization(origin, keys),
      ttl: String(job.ttl_seconds),
      urgency: job.urgency,
      // The topic lets the push service replace a duplicate of this message (at-least-once delivery).
      topic: `m${job.id}`,
      "content-type": "application/octet-stream",
      "content-encoding": "aes128gcm",
      "content-length": String(cipherText.length),
    };
    try {
      const response = await this.transport.post(checked.url, headers, cipherText);
      return classifyDelivery(response, job.attempts);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return classifyDelivery({ error: `Could not reach the push service: ${message}` }, job.attempts);
    }
  }

  close(): void {
    this.encryption.close();
    this.transport.close();
  }
}

/** Records an attempt's outcome on the queue row (and the device), if this worker still holds it. */
export async function recordOutcome(db: Database, job: PushJob, workerId: string, outcome: DeliveryOutcome) {
  const held = sql`id = ${job.id} and lease_owner = ${workerId} and status = 'sending'`;
  switch (outcome.kind) {
    case "sent":
      await db.execute(sql`
        with done as (
          update push_messages set status = 'sent', sent_at = now(), last_status_code = ${outcome.statusCode},
            last_error = null, lease_owner = null, lease_expires_at = null
          where ${held} returning subscription_id)
        update push_subscriptions set last_success_at = now() where id in (select subscription_id from done)`);
      return;
    case "retry":
      // One statement each: whoever sees the row's outcome also sees the device's (no window between them).
      await db.execute(sql`
        with done as (
          update push_messages set status = 'queued', last_error = ${outcome.error},
            last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null,
            next_attempt_at = now() + make_interval(secs => ${outcome.delayMs / 1000})
          where ${held} returning id)
        ${deviceFailure(job.subscription_id, outcome.error)}`);
      return;
    case "failed":
      await db.execute(sql`
        with done as (
          update push_messages set status = 'failed', last_error = ${outcome.error},
            last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null
          where ${held} returning id)
        ${deviceFailure(job.subscription_id, outcome.error)}`);
      return;
    case "gone":
      // The device will never receive anything again: forget it (its other queued rows fail later).
      await db.execute(sql`
        with done as (
          update push_messages set status = 'failed', last_error = ${outcome.error},
            last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null,
            subscription_id = null
          where ${held} returning id)
        delete from push_subscriptions where id = ${job.subscription_id}`);
      return;
  }
}

function deviceFailure(subscriptionId: number, error: string) {
  return sql`update push_subscriptions set last_failure_at = now(), last_error = ${error} where id = ${subscriptionId}`;
}

/**
 * Records successful deliveries in groups: every "sent" reported while the previous UPDATE ran goes into the
 * next one (one statement for many messages instead of one each). Each caller still waits for its own row
 * to be written, so a job is not finished before its outcome is stored.
 */
export function sentRecorder() {
  interface Entry {
    db: Database;
    workerId: string;
    id: number;
    statusCode: number;
    resolve: () => void;
    reject: (error: unknown) => void;
  }
  let pending: Entry[] = [];
  let flushing = false;

  async function flush() {
    flushing = true;
    try {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        const groups = new Map<Database, Map<string, Entry[]>>();
        for (const entry of batch) {
          const byWorker = groups.get(entry.db) ?? new Map<string, Entry[]>();
          groups.set(entry.db, byWorker);
          const entries = byWorker.get(entry.workerId);
          if (entries) entries.push(entry);
          else byWorker.set(entry.workerId, [entry]);
        }
        for (const [db, byWorker] of groups) {
          for (const [workerId, entries] of byWorker) {
            try {
              await markSent(db, workerId, entries);
              for (const entry of entries) entry.resolve();
            } catch (error) {
              for (const entry of entries) entry.reject(error);
            }
          }
        }
      }
    } finally {
      flushing = false;
    }
  }

  return (db: Database, workerId: string, job: PushJob, statusCode: number): Promise<void> =>
    new Promise((resolve, reject) => {
      pending.push({ db, workerId, id: job.id, statusCode, resolve, reject });
      if (!flushing) void flush();
    });
}

export async function markSent(
  db: Database,
  workerId: string,
  entries: { id: number; statusCode: number }[],
) {
  const ids = intArray(entries.map((entry) => entry.id));
  // `m.id = any(ids)` besides the join: the prepared (generic) plan, made while the queue was small,
  // otherwise kept a sequential scan of push_messages as it grew (1 ms per call at 10,000 rows, auto_explain).
  await queryRows(
    db,
    sql`
    with done as (
      update push_messages m set status = 'sent', sent_at = now(), last_status_code = d.code,
        last_error = null, lease_owner = null, lease_expires_at = null
      from unnest(${ids}, ${intArray(entries.map((entry) => entry.statusCode))}) as d(id, code)
      where m.id = any(${ids}) and m.id = d.id and m.lease_owner = ${workerId} and m.status = 'sending'
      returning m.subscription_id)
    update push_subscriptions set last_success_at = now()
    where id in (select distinct subscription_id from done)`,
    { prepared: true },
  );
}

/**
 * The claim: due real notifications first, then messages whose worker died (lease expired), then
 * low-priority ones (test sends). Each branch reads its own partial index in index order and stops at
 * `limit` rows, so the cost does not grow with the depth of the queue (an OR of the conditions would read
 * and sort every due row: ~700 ms at 1,000,000 queued). Append runs the branches in order and stops as
 * soon as the limit is reached. The lease, the attempt count and the backoff (`next_attempt_at`) are
 * kept per row, as before.
 */
export function claimDueMessages({
  workerId,
  limit,
  leaseMs,
}: {
  workerId: string;
  limit: number;
  leaseMs: number;
}) {
  const queued = (priority: "normal" | "low") => sql`
    select id, payload_id, subscription_id from push_messages
    where status = 'queued' and subscription_id is not null and priority = ${priority}::push_priority
      and next_attempt_at <= now()
    order by priority, next_attempt_at, id
    limit ${limit}
    for update skip locked`;
  return sql`
    with due as (
      select id, payload_id, subscription_id from (${queued("normal")}) as due_normal
      union all
      select id, payload_id, subscription_id from (
        select id, payload_id, subscription_id from push_messages
        where status = 'sending' and subscription_id is not null and lease_expires_at < now()
        order by lease_expires_at
        limit ${limit}
        for update skip locked) as lease_expired
      union all
      select id, payload_id, subscription_id from (${queued("low")}) as due_low
      limit ${limit})
    update push_messages m set status = 'sending', lease_owner = ${workerId}, attempts = m.attempts + 1,
      lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
    -- A row whose content or device is gone is claimed too (its payload or endpoint null), so that it fails
    -- instead of staying due at the head of the queue, claimed and dropped at every claim. (A device removed
    -- while a notification to it was being enqueued: no foreign key holds it, migration 0022.)
    from due left join push_payloads p on p.id = due.payload_id
      left join push_subscriptions s on s.id = due.subscription_id
    where m.id = due.id
    returning m.id, m.subscription_id, s.endpoint, s.p256dh, s.auth, m.payload_id,
      p.payload::text as payload, coalesce(p.urgency, 'normal') as urgency,
      coalesce(p.ttl_seconds, 0) as ttl_seconds, m.attempts,
      (select version from push_credentials where id = 1) as key_version`;
}

/** The push senders running in this process, by the database they send from. */
const localSenders = new WeakMap<object, LocalIntake<PushJob>>();

/**
 * The push sender this process runs on `db`, if any: notifications enqueued here on the same database are
 * written already leased to it and handed over at once (no claim query, no NOTIFY round trip).
 */
export function localSenderFor(db: object): LocalIntake<PushJob> | undefined {
  return localSenders.get(db);
}

/** The push queue as a worker-host consumer: woken by NOTIFY on commit, so nobody calls "push now". */
export function pushSenderConsumer(
  options: { concurrency?: number; leaseMs?: number; pollMs?: number } = {},
) {
  const sender = new PushSender();
  const recordSent = sentRecorder();
  let intake: LocalIntake<PushJob> | undefined;
  let lastPurge = 0;
  // Sends are streams on one HTTP/2 connection per push service, so many in flight cost little; they keep
  // the encryption, the push service and the database busy at once (bench: 64 → 128 in flight, 1,330 →
  // 1,860 msg/s drained on 2 cores).
  const concurrency = options.concurrency ?? Math.max(16, getEnv().WORKER_CONCURRENCY * 16);
  const consumer: Consumer<PushJob> = {
    name: "push-sender",
    channel: PUSH_CHANNEL,
    concurrency,
    // Under load, claim in batches of a quarter of the slots rather than one query per freed slot.
    claimBatch: Math.max(1, Math.floor(concurrency / 4)),
    leaseMs: options.leaseMs ?? 30_000,
    pollMs: options.pollMs ?? 1_000,
    keyOf: (job) => String(job.id),
    async claim(db, { workerId, limit, leaseMs }) {
      const stopTimer = pushClaimSeconds.startTimer();
      try {
        return await queryRows<PushJob>(db, claimDueMessages({ workerId, limit, leaseMs }), {
          prepared: true,
        });
      } finally {
        stopTimer();
      }
    },
    async process(job, ctx) {
      let outcome: DeliveryOutcome;
      try {
        outcome = await sender.deliver(ctx.db, job);
      } catch (error) {
        // E.g. keys that cannot be decrypted (NEXTAUTH_SECRET differs): record it on the row and back off,
        // instead of leaving the row "sending" until its lease expires, again and again, without a word.
        const message = error instanceof Error ? error.message : String(error);
        outcome = classifyDelivery({ error: message }, job.attempts);
      }
      // The message may already be with the push service: a dropped connection (database restart,
      // terminated backend) must not leave the row "sending" until its lease expires and it goes again.
      for (let attempt = 1; ; attempt++) {
        try {
          if (outcome.kind === "sent") await recordSent(ctx.db, ctx.workerId, job, outcome.statusCode);
          else await recordOutcome(ctx.db, job, ctx.workerId, outcome);
          pushDeliveries.inc({ outcome: outcome.kind, status_code: String(outcome.statusCode ?? "none") });
          return;
        } catch (error) {
          if (attempt >= RECORD_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** attempt));
        }
      }
    },
    async renewLeases(db, { workerId, keys, leaseMs }) {
      const rows = await queryRows<{ id: number }>(
        db,
        sql`update push_messages set lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
            where lease_owner = ${workerId} and status = 'sending' and id = any(${intArray(keys)})
            returning id`,
      );
      return rows.map((row) => String(row.id));
    },
    async releaseLeases(db, { workerId, keys }) {
      await db.execute(
        sql`update push_messages set status = 'queued', attempts = greatest(attempts - 1, 0),
              lease_owner = null, lease_expires_at = null
            where lease_owner = ${workerId} and status = 'sending' and id = any(${intArray(keys)})`,
      );
    },
    // Connections to push services are closed with the host (they would otherwise stay open, unref'd, until
    // the process exits); a host started again opens new ones at its first send.
    stopped: () => {
      sender.close();
      if (intake && localSenders.get(intake.db) === intake) localSenders.delete(intake.db);
    },
    started(given) {
      intake = given;
      localSenders.set(given.db, given);
    },
    async recoverExpired(db) {
      // Reads push_messages_orphaned_idx (migration 0021): nothing, normally, however deep the queue.
      await db.execute(sql`
        update push_messages set status = 'failed', lease_owner = null, lease_expires_at = null,
          last_error = coalesce(last_error || ' · ', '') || ${DEVICE_REMOVED}
        where status in ('queued', 'sending') and subscription_id is null`);
      // Retention is counted in days: once a minute is often enough.
      if (Date.now() - lastPurge < PURGE_EVERY_MS) return;
      lastPurge = Date.now();
      await db.execute(sql`
        delete from push_messages
        where status = 'sent' and sent_at < now() - make_interval(days => ${SENT_RETENTION_DAYS})`);
      await db.execute(sql`
        delete from push_payloads p
        where p.created_at < now() - make_interval(days => ${SENT_RETENTION_DAYS})
          and not exists (select 1 from push_messages m where m.payload_id = p.id)`);
    },
  };
  return consumer;
}
