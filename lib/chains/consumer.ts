import "server-only";
import { sql } from "drizzle-orm";
import { EXECUTION_ABORT_CHANNEL, EXECUTIONS_CHANNEL } from "@/db/channels";
import { intArray } from "@/db/client";
import { getEnv } from "@/lib/env";
import type { Consumer } from "@/lib/worker/consumer";
import { runExecution } from "./execution";
import { nextSlot, registeredSchedules } from "./schedule";
import { claimExecutions, type ExecutionJob } from "./sql/claim-executions";
import { endHeldExecutions } from "./sql/end-held-executions";
import { freeLeakedSlots, SLOT_SWEEP_MS } from "./sql/execution-slots";
import { fireSchedule } from "./sql/fire-schedules";
import { renewExecutionLeases } from "./sql/renew-leases";

export { RETENTION_MS } from "./purge";
export { defaultPerUserLimit, type ExecutionJob } from "./sql/claim-executions";
export { WORKER_STOPPED } from "./sql/end-held-executions";

export interface ExecutionsConsumerOptions {
  /**
   * Application-wide limit of running executions (all processes); BACKGROUND_MAX_CONCURRENT by default. The
   * runtime setting on /admin/executions, when set, overrides it (and maxPerUser) at every claim.
   */
  maxConcurrent?: number;
  /**
   * Running executions per user at once (all processes); BACKGROUND_MAX_PER_USER by default, else half the
   * application-wide limit (at least 1).
   */
  maxPerUser?: number;
  /** Executions in flight in this process; WORKER_CONCURRENCY by default. */
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  /** How often progress is written (an abort request comes with each write). */
  progressMs?: number;
  /**
   * Fallback: how often a running execution that wrote no progress looks for an abort request in the
   * database, in case its notification was lost (default 5 s). Aborts arrive by NOTIFY at once.
   */
  abortPollMs?: number;
  /** Fire the cron schedules declared in this process (default BACKGROUND_SCHEDULES, on). */
  schedules?: boolean;
}

/** The worker-host consumer that runs background executions of registered chains. */
export function executionsConsumer(options: ExecutionsConsumerOptions = {}): Consumer<ExecutionJob> {
  const env = getEnv();
  /** The defaults; an administrator's runtime settings (execution_settings) override them at each claim. */
  const appLimit = options.maxConcurrent ?? env.BACKGROUND_MAX_CONCURRENT;
  const perUserLimit = options.maxPerUser ?? env.BACKGROUND_MAX_PER_USER ?? null;
  /** The application-wide limit in effect at the last claim. */
  let effectiveAppLimit = appLimit;
  const progressMs = options.progressMs ?? 250;
  const abortPollMs = options.abortPollMs ?? 5_000;
  /** Executions this process runs: how to abort each at once when its abort request is announced. */
  const abortHandlers = new Map<number, () => void>();
  const concurrency = options.concurrency ?? env.WORKER_CONCURRENCY;
  /** When this process next looks for leaked execution slots. */
  let nextSlotSweep = 0;
  /** Per schedule, when its next slot is due (absent: check now, e.g. a catch-up after start-up). */
  const dueAt = new Map<string, number>();
  /** Where the next claim looks first among many users with waiting work (see `claimExecutions`). */
  let afterUser: number | null = -1;

  return {
    name: "executions",
    channel: EXECUTIONS_CHANNEL,
    concurrency,
    // Under load, claim for half the slots at a time instead of once per finished execution.
    claimBatch: Math.max(1, Math.floor(concurrency / 2)),
    leaseMs: options.leaseMs ?? env.BACKGROUND_LEASE_SECONDS * 1000,
    pollMs: options.pollMs ?? 1_000,
    keyOf: (job) => String(job.id),

    claim(db, { workerId, limit, leaseMs }) {
      if (limit <= 0) return Promise.resolve([]);
      return claimExecutions(db, {
        workerId,
        limit,
        leaseMs,
        appLimit,
        perUserLimit,
        afterUser,
        onLimits: (limits) => {
          effectiveAppLimit = limits.appLimit;
        },
        onNextAfterUser: (next) => {
          afterUser = next ?? -1;
        },
      });
    },

    listens: [
      { channel: EXECUTION_ABORT_CHANNEL, onNotify: (payload) => abortHandlers.get(Number(payload))?.() },
    ],

    process: (job, ctx) =>
      runExecution(job, ctx, {
        progressMs,
        abortPollMs,
        appLimit: effectiveAppLimit,
        onAbortNotice: (id, handler) => {
          abortHandlers.set(id, handler);
          return () => {
            if (abortHandlers.get(id) === handler) abortHandlers.delete(id);
          };
        },
      }),

    async renewLeases(db, { workerId, keys, leaseMs }) {
      const ids = await renewExecutionLeases(db, { workerId, ids: keys.map(Number), leaseMs });
      return ids.map(String);
    },

    async releaseLeases(db, { workerId, keys }) {
      // Graceful stop past the grace period: executions with attempts left wait again, others end FAILED.
      await endHeldExecutions(db, sql`lease_owner = ${workerId} and id = any(${intArray(keys)})`);
    },

    async recoverExpired(db) {
      await endHeldExecutions(db, sql`lease_expires_at < clock_timestamp()`);
      if (Date.now() >= nextSlotSweep) {
        nextSlotSweep = Date.now() + SLOT_SWEEP_MS;
        await freeLeakedSlots(db);
      }
      if (!(options.schedules ?? env.BACKGROUND_SCHEDULES)) return;
      const now = new Date();
      for (const schedule of registeredSchedules()) {
        if (now.getTime() < (dueAt.get(schedule.name) ?? 0)) continue;
        await fireSchedule(db, schedule, now);
        dueAt.set(schedule.name, nextSlot(schedule.cron, schedule.timezone, now)?.getTime() ?? Infinity);
      }
    },
  };
}
