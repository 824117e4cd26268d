import "server-only";
import { sql } from "drizzle-orm";
import { getEnv } from "@/lib/env";
import type { Consumer } from "@/lib/worker/consumer";
import { EXECUTIONS_CHANNEL } from "./channels";
import { runExecution } from "./execution";
import { claimExecutions, type ExecutionJob } from "./sql/claim-executions";
import { endHeldExecutions } from "./sql/end-held-executions";
import { purgeExecutions } from "./sql/purge-executions";
import { renewExecutionLeases } from "./sql/renew-leases";

export type { ExecutionJob } from "./sql/claim-executions";
export { WORKER_STOPPED } from "./sql/end-held-executions";

/** Finished executions (and their files) are kept this long, then purged by the workers. */
export const RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export interface ExecutionsConsumerOptions {
  /** Application-wide limit of running executions (all processes); BACKGROUND_MAX_CONCURRENT by default. */
  maxConcurrent?: number;
  /** Executions in flight in this process; WORKER_CONCURRENCY by default. */
  concurrency?: number;
  leaseMs?: number;
  pollMs?: number;
  /** How often progress is written and an abort request is looked for. */
  progressMs?: number;
}

const idList = (keys: string[]) => `{${keys.map(Number).join(",")}}`;

/** The worker-host consumer that runs background executions of registered chains. */
export function executionsConsumer(options: ExecutionsConsumerOptions = {}): Consumer<ExecutionJob> {
  const env = getEnv();
  const appLimit = () => options.maxConcurrent ?? env.BACKGROUND_MAX_CONCURRENT;
  const progressMs = options.progressMs ?? 250;
  const concurrency = options.concurrency ?? env.WORKER_CONCURRENCY;
  let lastPurge = 0;

  return {
    name: "executions",
    channel: EXECUTIONS_CHANNEL,
    concurrency,
    // Under load, claim for a quarter of the slots at a time instead of once per finished execution.
    claimBatch: Math.max(1, Math.floor(concurrency / 4)),
    leaseMs: options.leaseMs ?? env.BACKGROUND_LEASE_SECONDS * 1000,
    pollMs: options.pollMs ?? 1_000,
    keyOf: (job) => String(job.id),

    claim(db, { workerId, limit, leaseMs }) {
      const max = appLimit();
      if (max <= 0 || limit <= 0) return Promise.resolve([]);
      return claimExecutions(db, { workerId, limit, leaseMs, appLimit: max });
    },

    process: (job, ctx) => runExecution(job, ctx, { progressMs, appLimit: appLimit() }),

    async renewLeases(db, { workerId, keys, leaseMs }) {
      const ids = await renewExecutionLeases(db, { workerId, ids: keys.map(Number), leaseMs });
      return ids.map(String);
    },

    async releaseLeases(db, { workerId, keys }) {
      // Graceful stop past the grace period: executions with attempts left wait again, others end FAILED.
      await endHeldExecutions(db, sql`lease_owner = ${workerId} and id = any(${idList(keys)}::int[])`);
    },

    async recoverExpired(db) {
      await endHeldExecutions(db, sql`lease_expires_at < clock_timestamp()`);
      if (Date.now() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = Date.now();
        await purgeExecutions({ olderThanMs: RETENTION_MS }, db);
        await db.execute(sql`delete from execution_watchers where expires_at < clock_timestamp()`);
      }
    },
  };
}
