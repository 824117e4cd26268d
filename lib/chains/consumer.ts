import "server-only";
import { sql } from "drizzle-orm";
import { type Database, notify, queryRows } from "@/db/client";
import { getEnv } from "@/lib/env";
import type { Consumer, JobContext } from "@/lib/worker/consumer";
import { EXECUTIONS_CHANNEL, runInBackground } from "./background";
import { type Chain, getChain, type StepContext } from "./define";
import { ChainAbortedError, errorMessage } from "./errors";
import { ProgressReporter } from "./progress";
import { purgeExecutions } from "./queries";
import { executeSteps, snapshotInput, throwIfAborted } from "./run";

/** Advisory lock held (per transaction) while claiming, so limits hold across worker processes. */
const CLAIM_LOCK = 72_310_002;
/** A retryable execution whose worker keeps dying is re-run at most this many times in all. */
export const MAX_ATTEMPTS = 3;
export const WORKER_STOPPED = "worker stopped before the execution finished";
/** Finished executions (and their files) are kept this long, then purged by the workers. */
export const RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
const PURGE_EVERY_MS = 10 * 60 * 1000;

export interface ExecutionJob {
  id: number;
  chainName: string;
  userId: number;
  username: string;
  sessionId: string;
  input: unknown;
  attempt: number;
  /** Whether others may wait for this one to end: serialized per session or throttled per chain. */
  limited: boolean;
}

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

const seconds = (ms: number) => ms / 1000;

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

    async claim(db, { workerId, limit, leaseMs }) {
      const max = appLimit();
      if (max <= 0 || limit <= 0) return [];
      return db.transaction(async (tx) => {
        // One claimer at a time across all processes: the counts below stay true until we commit.
        await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
        const [usage] = await queryRows<{ running: number }>(
          tx,
          sql`select count(*)::int as running from executions where status in ('SCHEDULED', 'EXECUTING')`,
        );
        const take = Math.min(limit, max - (usage?.running ?? 0));
        if (take <= 0) return [];
        return queryRows<ExecutionJob>(
          tx,
          sql`
          with running as (
            select chain_name, session_id from executions where status in ('SCHEDULED', 'EXECUTING')
          ),
          -- Only chains with a serialized or throttled execution waiting need the window functions below;
          -- every other execution is eligible as it is (the second branch of "picked", an index scan).
          limited_chains as (
            select distinct chain_name from executions
            where status = 'ENQUEUED' and not abort_requested and (serialize or max_concurrent is not null)
          ),
          queued as (
            select id, chain_name, session_id, serialize, max_concurrent,
              row_number() over (partition by chain_name, session_id order by id) as session_rank
            from executions
            where status = 'ENQUEUED' and not abort_requested
              and chain_name in (select chain_name from limited_chains)
          ),
          eligible as (
            select q.*, row_number() over (partition by q.chain_name order by q.id) as chain_rank
            from queued q
            where not q.serialize or (q.session_rank = 1 and not exists (
              select 1 from running r where r.chain_name = q.chain_name and r.session_id = q.session_id))
          ),
          picked as (
            select id from (
              (select e.id from eligible e
               where e.max_concurrent is null
                  or e.chain_rank + (select count(*) from running r where r.chain_name = e.chain_name)
                     <= e.max_concurrent
               order by e.id
               limit ${take})
              union
              (select id from executions
               where status = 'ENQUEUED' and not abort_requested and not serialize and max_concurrent is null
               order by id
               limit ${take})
            ) candidates
            order by id
            limit ${take}
          )
          update executions e
          set status = 'SCHEDULED', lease_owner = ${workerId}, attempt = e.attempt + 1,
              lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds(leaseMs)}),
              updated_at = clock_timestamp()
          from users u
          where e.id in (select id from picked) and e.status = 'ENQUEUED' and u.id = e.user_id
          returning e.id, e.chain_name as "chainName", e.user_id as "userId", u.username,
            e.session_id as "sessionId", e.input, e.attempt,
            (e.serialize or e.max_concurrent is not null) as limited`,
        );
      });
    },

    process: (job, ctx) => runExecution(job, ctx, progressMs, appLimit()),

    async renewLeases(db, { workerId, keys, leaseMs }) {
      const rows = await queryRows<{ id: number }>(
        db,
        sql`update executions
            set lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds(leaseMs)})
            where lease_owner = ${workerId} and status in ('SCHEDULED', 'EXECUTING')
              and id = any(${`{${keys.join(",")}}`}::int[])
            returning id`,
      );
      return rows.map((row) => String(row.id));
    },

    async releaseLeases(db, { workerId, keys }) {
      // Graceful stop past the grace period: retryable chains go back to the queue, others end FAILED.
      await endHeld(db, sql`lease_owner = ${workerId} and id = any(${`{${keys.join(",")}}`}::int[])`);
    },

    async recoverExpired(db) {
      await endHeld(db, sql`lease_expires_at < clock_timestamp()`);
      if (Date.now() - lastPurge > PURGE_EVERY_MS) {
        lastPurge = Date.now();
        await purgeExecutions({ olderThanMs: RETENTION_MS }, db);
      }
    },
  };
}

/** Ends (or re-queues) SCHEDULED/EXECUTING executions matching `where` whose worker is gone. */
async function endHeld(db: Database, where: ReturnType<typeof sql>): Promise<void> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    with target as (
      select id, (abort_requested) as aborted,
        (not abort_requested and (status = 'SCHEDULED' or (retryable and attempt < ${MAX_ATTEMPTS}))) as requeue
      from executions
      where status in ('SCHEDULED', 'EXECUTING') and ${where}
      for update skip locked
    )
    update executions e
    set status = (case when t.aborted then 'ABORTED' when t.requeue then 'ENQUEUED' else 'FAILED' end)::execution_status,
        error = case when t.aborted or t.requeue then null else ${WORKER_STOPPED} end,
        status_message = case when t.requeue then 'Queued again: its worker stopped' else e.status_message end,
        started_at = case when t.requeue then null else e.started_at end,
        finished_at = case when t.requeue then null else clock_timestamp() end,
        step_name = case when t.requeue then null else e.step_name end,
        step_sequence = case when t.requeue then null else e.step_sequence end,
        sofar = case when t.requeue then null else e.sofar end,
        totalwork = case when t.requeue then null else e.totalwork end,
        lease_owner = null, lease_expires_at = null, updated_at = clock_timestamp()
    from target t
    where e.id = t.id
    returning e.id`,
  );
  if (rows.length > 0) await notify(db, EXECUTIONS_CHANNEL);
}

async function runExecution(
  job: ExecutionJob,
  host: JobContext,
  progressMs: number,
  appLimit: number,
): Promise<void> {
  const { db, workerId } = host;
  const owned = sql`id = ${job.id} and lease_owner = ${workerId} and status = 'EXECUTING'`;
  let notified = false;
  try {
    const chain = getChain(job.chainName) as Chain<object> | undefined;
    let state: object | undefined;
    let problem: string | null = null;
    if (!chain) problem = `Unknown chain "${job.chainName}": this worker has no module that defines it`;
    else {
      try {
        state = snapshotInput(chain, job.input);
      } catch (error) {
        problem = errorMessage(error);
      }
    }
    const started = await queryRows<{ id: number }>(
      db,
      sql`update executions
          set status = 'EXECUTING', started_at = clock_timestamp(), updated_at = clock_timestamp(), state = input
          where id = ${job.id} and lease_owner = ${workerId} and status = 'SCHEDULED'
          returning id`,
    );
    if (started.length === 0) return; // aborted (or taken away) before it started
    if (!chain || !state || problem) {
      await db.execute(
        sql`update executions set status = 'FAILED', error = ${problem}, finished_at = clock_timestamp(),
              updated_at = clock_timestamp(), lease_owner = null, lease_expires_at = null
            where ${owned}`,
      );
      return;
    }

    const controller = new AbortController();
    const onHostAbort = () => controller.abort(host.signal.reason);
    host.signal.addEventListener("abort", onHostAbort, { once: true });
    const reporter = new ProgressReporter(db, job.id, workerId, progressMs, () =>
      controller.abort(new ChainAbortedError("Aborted on request")),
    );
    const ctx: StepContext<object> = {
      state,
      user: { id: job.userId, username: job.username },
      signal: controller.signal,
      executionId: job.id,
      sessionId: job.sessionId,
      db,
      setProgress: (sofar, totalwork) => reporter.setProgress(sofar, totalwork),
      setStatus: (message) => reporter.setStatus(message),
      files: () => executionFileContents(db, job.id),
      runInBackground: (child, input) =>
        runInBackground(child, input, {
          user: { id: job.userId, username: job.username },
          session: job.sessionId,
          parentId: job.id,
          db,
        }),
      throwIfAborted: () => throwIfAborted(controller.signal),
    };
    reporter.start();
    let outcome: { final: object } | { error: unknown };
    try {
      outcome = {
        final: await executeSteps(chain, ctx, {
          beforeStep: (step, sequence, current) => reporter.step(step.name, sequence, current),
        }),
      };
    } catch (error) {
      outcome = { error };
    } finally {
      host.signal.removeEventListener("abort", onHostAbort);
    }
    // A finished chain's final UPDATE reads abort_requested itself; only a failure needs to know it first.
    const pending = await reporter.stop({ readAbortRequest: !("final" in outcome) });
    if (host.signal.aborted && !reporter.abortRequested) return; // lease lost or shutdown: not ours to end
    const progress = sql`sofar = coalesce(${pending.sofar}, sofar), totalwork = coalesce(${pending.totalwork}, totalwork),
      status_message = coalesce(${pending.message}, status_message),
      step_name = coalesce(${pending.stepName}::text, step_name),
      step_sequence = coalesce(${pending.stepSequence}::int, step_sequence)`;
    const lastState = sql`state = coalesce(${pending.state}::jsonb, state)`;
    const end = sql`finished_at = clock_timestamp(), updated_at = clock_timestamp(),
      lease_owner = null, lease_expires_at = null`;
    // The final UPDATE also wakes the other worker processes, in the same round trip, when one of them may
    // be waiting for this slot: the application-wide limit was reached (the count still includes this
    // execution), or this one held back others of its session or chain. Otherwise nobody waits for it:
    // this process claims again by itself (the host wakes it), and others were free to claim all along.
    // A NOTIFY is not free: PostgreSQL serializes notifying commits, WAL flush included.
    const finish = async (update: ReturnType<typeof sql>) => {
      await db.execute(
        sql`with ended as (${update} returning id)
            select pg_notify(${EXECUTIONS_CHANNEL}, '') as woken
            where exists (select 1 from worker_processes where id <> ${workerId} and 'executions' = any(consumers))
              and (${job.limited} or (select count(*) from executions
                                      where status in ('SCHEDULED', 'EXECUTING')) >= ${appLimit})`,
      );
      notified = true;
    };
    if ("final" in outcome) {
      await finish(
        sql`update executions
            set status = (case when abort_requested then 'ABORTED' else 'SUCCESS' end)::execution_status,
                state = ${JSON.stringify(outcome.final)}::jsonb, ${progress}, ${end}
            where ${owned}`,
      );
    } else if (reporter.abortRequested || outcome.error instanceof ChainAbortedError) {
      await finish(
        sql`update executions set status = 'ABORTED', ${lastState}, ${progress}, ${end} where ${owned}`,
      );
    } else {
      await finish(
        sql`update executions set status = 'FAILED', error = ${errorMessage(outcome.error).slice(0, 2000)},
              ${lastState}, ${progress}, ${end}
            where ${owned}`,
      );
    }
  } finally {
    // Capacity was freed: wake every worker process, not only this one.
    if (!notified) await notify(db, EXECUTIONS_CHANNEL).catch(() => {});
  }
}

async function executionFileContents(db: Database, executionId: number) {
  return queryRows<{ name: string; contentType: string; size: number; content: Buffer }>(
    db,
    sql`select name, content_type as "contentType", size, content
        from execution_files where execution_id = ${executionId} order by id`,
  );
}
