import "server-only";
import https from "node:https";
import { sql } from "drizzle-orm";
import webpush, { WebPushError } from "web-push";
import { type Database, queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import type { Consumer } from "@/lib/worker/consumer";
import { checkEndpoint, type HostPattern, parseAllowList } from "./allow-list";
import { getVapidKeys, type VapidKeys } from "./credentials";
import { classifyDelivery, type DeliveryOutcome } from "./delivery-outcome";
import { PUSH_CHANNEL } from "./send";

export interface PushJob {
  id: number;
  subscription_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  payload: string;
  urgency: "very-low" | "low" | "normal" | "high";
  ttl_seconds: number;
  attempts: number;
  key_version: number;
}

const SEND_TIMEOUT_MS = 10_000;
/** A VAPID JWT is valid for 12 h and reused for 11 h: signing costs about twice the encryption. */
const VAPID_TTL_S = 12 * 3600;
const VAPID_REUSE_MS = 11 * 3600 * 1000;
const SENT_RETENTION_DAYS = 7;
/** Tries to record an outcome (postgres.js reconnects between them): 0.5 s, 1 s, 2 s, 4 s apart. */
const RECORD_ATTEMPTS = 5;

/** Per-process state of the sender: keys, cached Authorization headers, keep-alive agents. */
export class PushSender {
  private keys: VapidKeys | null = null;
  private readonly authHeaders = new Map<string, { header: string; until: number }>();
  private readonly agents = new Map<string, https.Agent>();
  private readonly allowList: HostPattern[];
  private readonly proxy: string | undefined;

  constructor(private readonly maxSockets = 64) {
    const env = getEnv();
    this.allowList = parseAllowList(env.PUSH_ENDPOINT_ALLOWLIST);
    this.proxy = env.PUSH_PROXY ?? env.HTTPS_PROXY;
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

  private agent(origin: string): https.Agent {
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = new https.Agent({ keepAlive: true, maxSockets: this.maxSockets });
      this.agents.set(origin, agent);
    }
    return agent;
  }

  /** One attempt: encrypt (fresh key per message, inside web-push) and POST to the push service. */
  async deliver(db: Database, job: PushJob): Promise<DeliveryOutcome> {
    const checked = checkEndpoint(job.endpoint, this.allowList);
    if (!checked.ok) return { kind: "failed", statusCode: null, error: checked.reason };
    const origin = checked.url.origin;
    const keys = await this.keysFor(db, job.key_version);
    try {
      const response = await webpush.sendNotification(
        { endpoint: job.endpoint, keys: { p256dh: job.p256dh, auth: job.auth } },
        job.payload,
        {
          vapidDetails: null as unknown as undefined,
          headers: { Authorization: this.authorization(origin, keys) },
          contentEncoding: "aes128gcm",
          TTL: job.ttl_seconds,
          urgency: job.urgency,
          // The topic lets the push service replace a duplicate of this message (at-least-once delivery).
          topic: `m${job.id}`,
          timeout: SEND_TIMEOUT_MS,
          ...(this.proxy ? { proxy: this.proxy } : { agent: this.agent(origin) }),
        },
      );
      return classifyDelivery({ statusCode: response.statusCode }, job.attempts);
    } catch (error) {
      if (error instanceof WebPushError) {
        return classifyDelivery(
          {
            statusCode: error.statusCode,
            headers: error.headers as Record<string, string>,
            body: error.body,
          },
          job.attempts,
        );
      }
      const message = error instanceof Error ? error.message : String(error);
      return classifyDelivery({ error: `Could not reach the push service: ${message}` }, job.attempts);
    }
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
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
      await db.execute(sql`
        update push_messages set status = 'queued', last_error = ${outcome.error},
          last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null,
          next_attempt_at = now() + make_interval(secs => ${outcome.delayMs / 1000})
        where ${held}`);
      await markDeviceFailure(db, job.subscription_id, outcome.error);
      return;
    case "failed":
      await db.execute(sql`
        update push_messages set status = 'failed', last_error = ${outcome.error},
          last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null
        where ${held}`);
      await markDeviceFailure(db, job.subscription_id, outcome.error);
      return;
    case "gone":
      await db.execute(sql`
        update push_messages set status = 'failed', last_error = ${outcome.error},
          last_status_code = ${outcome.statusCode}, lease_owner = null, lease_expires_at = null
        where ${held}`);
      // The device will never receive anything again: forget it (its other queued rows fail below).
      await db.execute(sql`delete from push_subscriptions where id = ${job.subscription_id}`);
      return;
  }
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
          byWorker.set(entry.workerId, [...(byWorker.get(entry.workerId) ?? []), entry]);
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

async function markSent(db: Database, workerId: string, entries: { id: number; statusCode: number }[]) {
  const ids = `{${entries.map((entry) => entry.id).join(",")}}`;
  const codes = `{${entries.map((entry) => entry.statusCode).join(",")}}`;
  await db.execute(sql`
    with done as (
      update push_messages m set status = 'sent', sent_at = now(), last_status_code = d.code,
        last_error = null, lease_owner = null, lease_expires_at = null
      from unnest(${ids}::int[], ${codes}::int[]) as d(id, code)
      where m.id = d.id and m.lease_owner = ${workerId} and m.status = 'sending'
      returning m.subscription_id)
    update push_subscriptions set last_success_at = now()
    where id in (select distinct subscription_id from done)`);
}

async function markDeviceFailure(db: Database, subscriptionId: number, error: string) {
  await db.execute(
    sql`update push_subscriptions set last_failure_at = now(), last_error = ${error} where id = ${subscriptionId}`,
  );
}

/** The push queue as a worker-host consumer: woken by NOTIFY on commit, so nobody calls "push now". */
export function pushSenderConsumer(
  options: { concurrency?: number; leaseMs?: number; pollMs?: number } = {},
) {
  const sender = new PushSender();
  const recordSent = sentRecorder();
  const concurrency = options.concurrency ?? Math.max(16, getEnv().WORKER_CONCURRENCY * 8);
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
      return queryRows<PushJob>(
        db,
        sql`
        with due as (
          select m.id from push_messages m
          where m.subscription_id is not null
            and ((m.status = 'queued' and m.next_attempt_at <= now())
              or (m.status = 'sending' and m.lease_expires_at < now()))
          order by m.next_attempt_at, m.id
          limit ${limit}
          for update of m skip locked)
        update push_messages m set status = 'sending', lease_owner = ${workerId}, attempts = m.attempts + 1,
          lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
        from due, push_subscriptions s
        where m.id = due.id and s.id = m.subscription_id
        returning m.id, s.id as subscription_id, s.endpoint, s.p256dh, s.auth, m.payload::text as payload,
          m.urgency, m.ttl_seconds, m.attempts,
          (select version from push_credentials where id = 1) as key_version`,
      );
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
            where lease_owner = ${workerId} and status = 'sending' and id = any(${`{${keys.join(",")}}`}::int[])
            returning id`,
      );
      return rows.map((row) => String(row.id));
    },
    async releaseLeases(db, { workerId, keys }) {
      await db.execute(
        sql`update push_messages set status = 'queued', attempts = greatest(attempts - 1, 0),
              lease_owner = null, lease_expires_at = null
            where lease_owner = ${workerId} and status = 'sending' and id = any(${`{${keys.join(",")}}`}::int[])`,
      );
    },
    async recoverExpired(db) {
      await db.execute(sql`
        update push_messages set status = 'failed', lease_owner = null, lease_expires_at = null,
          last_error = coalesce(last_error || ' · ', '') || 'The device was removed before delivery.'
        where status in ('queued', 'sending') and subscription_id is null`);
      await db.execute(sql`
        delete from push_messages
        where status = 'sent' and sent_at < now() - make_interval(days => ${SENT_RETENTION_DAYS})`);
    },
  };
  return consumer;
}
