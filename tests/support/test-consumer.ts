import { sql } from "drizzle-orm";
import { type Database, type Executor, intArray, notify, queryRows } from "@/db/client";
import type { Consumer, JobContext, LocalIntake } from "@/lib/worker/consumer";

export interface TestJob {
  id: number;
  payload: string;
  attempts: number;
}

export const TEST_CHANNEL = "host_test_jobs";

/** A tiny job table owned by the test consumer, the way the push queue and executions own theirs. */
export async function createTestJobTable(db: Executor): Promise<void> {
  await db.execute(sql`
    create table if not exists host_test_jobs (
      id serial primary key,
      payload text not null,
      status text not null default 'queued',
      lease_owner text,
      lease_expires_at timestamptz,
      attempts int not null default 0,
      done_by text[] not null default '{}',
      created_at timestamptz not null default clock_timestamp(),
      done_at timestamptz
    )`);
  await db.execute(sql`truncate host_test_jobs`);
}

export async function enqueueTestJobs(db: Executor, count: number, { wake = true } = {}): Promise<void> {
  await db.execute(
    sql`insert into host_test_jobs (payload) select 'job ' || n from generate_series(1, ${count}) as n`,
  );
  if (wake) await notify(db, TEST_CHANNEL);
}

export async function testJobs(db: Executor) {
  return queryRows<{
    id: number;
    status: string;
    attempts: number;
    done_by: string[];
    lease_owner: string | null;
    latency_ms: number | null;
  }>(
    db,
    sql`select id, status, attempts, done_by, lease_owner,
          (extract(epoch from (done_at - created_at)) * 1000)::float8 as latency_ms
        from host_test_jobs order by id`,
  );
}

export function testConsumer(
  options: Partial<Pick<Consumer<TestJob>, "concurrency" | "claimBatch" | "leaseMs" | "pollMs">> & {
    work?: (job: TestJob, ctx: JobContext) => Promise<void>;
    started?: (intake: LocalIntake<TestJob>) => void;
    /** Called as each claim starts (before its query). */
    claiming?: () => void;
    /** Called with the keys whose lease a renewal kept, before the host acts on them. */
    renewed?: (kept: string[]) => void;
    /** A slow claim: its query waits this long first. */
    claimDelayMs?: number;
  } = {},
): Consumer<TestJob> {
  return {
    name: "test-jobs",
    channel: TEST_CHANNEL,
    concurrency: options.concurrency ?? 4,
    claimBatch: options.claimBatch,
    leaseMs: options.leaseMs ?? 5_000,
    pollMs: options.pollMs ?? 60_000,
    keyOf: (job) => String(job.id),
    started: options.started,
    async claim(db: Database, { workerId, limit, leaseMs }) {
      options.claiming?.();
      if (options.claimDelayMs) await new Promise((resolve) => setTimeout(resolve, options.claimDelayMs));
      return queryRows<TestJob>(
        db,
        sql`update host_test_jobs set status = 'running', lease_owner = ${workerId}, attempts = attempts + 1,
              lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
            where id in (
              select id from host_test_jobs
              where status = 'queued' or (status = 'running' and lease_expires_at < now())
              order by id limit ${limit} for update skip locked)
            returning id, payload, attempts`,
      );
    },
    async process(job, ctx) {
      await options.work?.(job, ctx);
      await ctx.db.execute(
        sql`update host_test_jobs set status = 'done', done_at = clock_timestamp(),
              done_by = done_by || ${ctx.workerId}::text
            where id = ${job.id}`,
      );
    },
    async renewLeases(db, { workerId, keys, leaseMs }) {
      const rows = await queryRows<{ id: number }>(
        db,
        sql`update host_test_jobs set lease_expires_at = now() + make_interval(secs => ${leaseMs / 1000})
            where lease_owner = ${workerId} and status = 'running'
              and id = any(${intArray(keys)})
            returning id`,
      );
      const kept = rows.map((row) => String(row.id));
      options.renewed?.(kept);
      return kept;
    },
    async releaseLeases(db, { workerId, keys }) {
      await db.execute(
        sql`update host_test_jobs set status = 'queued', lease_owner = null
            where lease_owner = ${workerId} and id = any(${intArray(keys)})`,
      );
    },
  };
}

/** Jobs written already leased to `workerId` (as a local enqueue does for its own host), to hand over. */
export async function insertLeasedTestJobs(db: Executor, workerId: string, count: number) {
  return queryRows<TestJob>(
    db,
    sql`insert into host_test_jobs (payload, status, lease_owner, lease_expires_at, attempts)
        select 'local ' || n, 'running', ${workerId}, now() + interval '30 seconds', 1
        from generate_series(1, ${count}) as n
        returning id, payload, attempts`,
  );
}
