// Background executions: wait-to-start latency, burst throughput and cost per execution of trivial
// executions — ours against pg-boss 10 and graphile-worker 0.17, each at its fastest documented settings,
// doing the same work on the same PostgreSQL in the same run. Wait-to-start is measured from the job's
// creation to its start (database clock for ours and pg-boss, the job's created_at for graphile-worker).
import { sql } from "drizzle-orm";
import { Logger, type Runner, run as runGraphileWorker } from "graphile-worker";
import PgBoss from "pg-boss";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { createDatabase, queryRows } from "@/db/client";
import { defineChain, executionsConsumer, runInBackground } from "@/lib/chains";
import { WorkerHost } from "@/lib/worker/host";
import { type Cost, startCost } from "./cost";
import {
  forEachLimit,
  percentile,
  type Row,
  sleep,
  startWorkerProcesses,
  stopProcess,
  stopWorkers,
} from "./support";

export interface ChainBenchOptions {
  databaseUrl: string;
  singles: number;
  burst: number;
  /** Each queue is measured at each of these slot counts; its fastest burst counts. */
  slotChoices: number[];
  /** Measure pg-boss and graphile-worker too (false: ours only, for a quick look while profiling). */
  baselines: boolean;
  /** Run the `npm run worker` row (1 process, then 2, draining the same burst). */
  workerProcesses: boolean;
}

/** One measurement's settings: the slots, i.e. executions in flight at once (pg-boss: workers, each fetching a batch of 512). */
type RunOptions = ChainBenchOptions & { slots: number };

const SINGLES_GAP_MS = 5;

/**
 * The trivial job every queue runs: one step that does nothing (a pg-boss or graphile-worker job is one
 * function). A chain of several steps also writes a checkpoint after each step but the last.
 */
const noopChain = defineChain<{ n: number }>({
  name: "bench.noop",
  title: "Bench no-op",
  steps: [{ name: "Run", run() {} }],
});
/** The same with three steps: two checkpoints (state and step saved) before the final update. */
const threeStepChain = defineChain<{ n: number }>({
  name: "bench.three-steps",
  title: "Bench three steps",
  steps: [
    { name: "One", run() {} },
    { name: "Two", run() {} },
    { name: "Three", run() {} },
  ],
});
/** Concurrent callers enqueueing the burst, for every queue alike. */
const ENQUEUERS = 16;

/** A queue under test, started with its workers; `finished` counts the jobs of this run that completed. */
interface RunningQueue {
  enqueue(): Promise<void>;
  finished(): Promise<number>;
  /** Wait-to-start of every job of this run, in milliseconds. */
  waits(): Promise<number[]>;
  /** What the queue looks like now (for a timeout's message). */
  describe?(): Promise<string>;
  stop(): Promise<void>;
}
interface QueueUnderTest {
  label: string;
  start(run: string, options: RunOptions): Promise<RunningQueue>;
}

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
  cost: Cost;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

function oursRunning(chain: typeof noopChain, label: string): QueueUnderTest {
  return {
    label,
    async start(_run, options) {
      const handle = createDatabase({ url: options.databaseUrl, maxConnections: 10 });
      const enqueuer = createDatabase({ url: options.databaseUrl, maxConnections: 8 });
      const db = enqueuer.db;
      await db.execute(sql`delete from executions`);
      // The previous run's dead rows cleaned away, as autovacuum would between bursts on a live system (pg-boss
      // starts each run on a fresh queue partition; graphile-worker's jobs table is vacuumed the same way).
      await db.execute(sql`vacuum analyze executions`);
      const [bo] = await queryRows<{ id: number }>(db, sql`select id from users where username = 'bo'`);
      const user = { id: bo!.id, username: "bo" };
      const host = new WorkerHost(handle, "worker", { info: () => {}, error: console.error }).register(
        // One user enqueues everything: the per-user limit (half the slots by default) would halve the slots.
        executionsConsumer({
          maxConcurrent: options.slots,
          maxPerUser: options.slots,
          concurrency: options.slots,
          pollMs: 1_000,
          // The app's own cron schedules (the purge, every 10 minutes) are not part of the measurement: fired
          // here, one more execution landed in the count whenever a run spanned a ten-minute mark.
          schedules: false,
        }),
      );
      await host.start();
      let enqueued = 0;
      return {
        async enqueue() {
          await runInBackground(chain, { n: enqueued++ }, { user, db });
        },
        async finished() {
          // Cheap while it runs (the waiting and running ones, from their partial index); the outcome is
          // checked once all are done.
          const [row] = await queryRows<{ open: number }>(
            db,
            sql`select count(*)::int as open from executions
              where status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING') and chain_name = ${chain.name}`,
          );
          if ((row?.open ?? 0) > 0) return enqueued - (row?.open ?? 0);
          const [outcome] = await queryRows<{ n: number; bad: number }>(
            db,
            sql`select count(*) filter (where status = 'SUCCESS')::int as n,
                     count(*) filter (where status in ('FAILED', 'ABORTED'))::int as bad
              from executions where chain_name = ${chain.name}`,
          );
          if (outcome?.bad) throw new Error(`${outcome.bad} executions did not succeed`);
          return outcome?.n ?? 0;
        },
        async waits() {
          const rows = await queryRows<{ ms: number }>(
            db,
            sql`select extract(epoch from (started_at - created_at)) * 1000 as ms from executions
              where chain_name = ${chain.name}`,
          );
          return rows.map((row) => Number(row.ms));
        },
        async describe() {
          const rows = await queryRows<{ status: string; n: number }>(
            db,
            sql`select chain_name || ' ' || status::text as status, count(*)::int as n from executions group by 1
              union all select 'slots held', count(*)::int from execution_slots where execution_id is not null`,
          );
          const sessions = await queryRows<{ state: string; wait: string | null; query: string }>(
            db,
            sql`select coalesce(state, '') as state, wait_event_type || ':' || wait_event as wait,
                     left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 100) as query
              from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
          );
          return `${rows.map((row) => `${row.status} ${row.n}`).join(", ")}; host ${JSON.stringify(host.status().consumers)}; sessions ${JSON.stringify(sessions)}`;
        },
        async stop() {
          await host.stop(1_000);
          await handle.close();
          await enqueuer.close();
        },
      };
    },
  };
}

const ours = oursRunning(noopChain, "ours");

/**
 * pg-boss 10 (the newest that runs on Node 20) at its fastest: polling every 0.5 s (its minimum), a fetch
 * of 512 jobs per poll, one worker per slot (a worker handles its batch, then waits for the next poll).
 */
const pgBoss: QueueUnderTest = {
  label: "pg-boss 10",
  async start(run, options) {
    const boss = new PgBoss({ connectionString: options.databaseUrl, max: 10, schema: "pgboss" });
    boss.on("error", (error) => console.error("[pg-boss]", error));
    await boss.start();
    const monitor = createDatabase({ url: options.databaseUrl, maxConnections: 1 });
    const queue = `bench-${run}-${options.slots}`;
    await boss.createQueue(queue);
    for (let i = 0; i < options.slots; i++) {
      await boss.work(queue, { batchSize: 512, pollingIntervalSeconds: 0.5 }, async () => {});
    }
    return {
      async enqueue() {
        await boss.send(queue, { steps: 0 });
      },
      async finished() {
        const [row] = await queryRows<{ n: number }>(
          monitor.db,
          sql`select count(*)::int as n from pgboss.job where name = ${queue} and state = 'completed'`,
        );
        return row?.n ?? 0;
      },
      async waits() {
        const rows = await queryRows<{ ms: number }>(
          monitor.db,
          sql`select extract(epoch from (started_on - created_on)) * 1000 as ms from pgboss.job
              where name = ${queue}`,
        );
        return rows.map((row) => Number(row.ms));
      },
      async stop() {
        await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
        await monitor.close();
      },
    };
  },
};

/**
 * graphile-worker 0.17.3 (the newest that runs on Node 20), tuned as its performance page says: a local
 * queue that fetches jobs in batches, job completions batched (`completeJobBatchDelay: 0`), as many
 * concurrent jobs as we have slots. It deletes finished jobs, so starts and completions are counted here.
 */
const graphileWorker: QueueUnderTest = {
  label: "graphile-worker 0.17",
  async start(run, options) {
    const waits: number[] = [];
    let done = 0;
    const runner: Runner = await runGraphileWorker({
      connectionString: options.databaseUrl,
      concurrency: options.slots,
      noHandleSignals: true,
      pollInterval: 2_000,
      logger: silentLogger(),
      taskList: {
        [`bench_${run}`]: async (_payload, helpers) => {
          waits.push(Date.now() - new Date(helpers.job.created_at).getTime());
          done++;
        },
      },
      preset: {
        worker: {
          concurrentJobs: options.slots,
          maxPoolSize: options.slots + 2,
          localQueue: { size: 500 },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
    // Its previous run's deleted jobs vacuumed away, as ours are.
    const cleaner = createDatabase({ url: options.databaseUrl, maxConnections: 1 });
    await cleaner.db.execute(sql`vacuum analyze graphile_worker._private_jobs`);
    await cleaner.close();
    return {
      async enqueue() {
        await runner.addJob(`bench_${run}`, { steps: 0 });
      },
      async finished() {
        return done;
      },
      async waits() {
        return waits;
      },
      async stop() {
        await runner.stop();
      },
    };
  },
};

function silentLogger() {
  // graphile-worker's Logger takes a factory of scoped log functions; errors still reach the console.
  return new Logger(() => (level, message) => {
    if (level === "error") console.error("[graphile-worker]", message);
  });
}

/** Singles: one at a time, a few milliseconds apart, so every job finds idle workers. */
async function measureSingles(queue: QueueUnderTest, options: RunOptions): Promise<number[]> {
  const singles = await queue.start("single", options);
  try {
    for (let i = 0; i < options.singles; i++) {
      await singles.enqueue();
      await sleep(SINGLES_GAP_MS);
    }
    await waitUntil(
      async () => (await singles.finished()) === options.singles,
      60_000,
      `${queue.label} singles`,
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message} (${(await singles.describe?.().catch((e: unknown) => `no details: ${String(e)}`)) ?? "no details"})`,
      );
    });
    return await singles.waits();
  } finally {
    await singles.stop();
  }
}

async function measure(
  queue: QueueUnderTest,
  options: RunOptions,
  { singles: withSingles }: { singles: boolean },
): Promise<Figures> {
  let waits: number[] = [];
  if (withSingles) waits = await measureSingles(queue, options);
  // Burst: all enqueued at once by concurrent callers, measured until the last one finished.
  const burst = await queue.start("burst", options);
  const cost = await startCost(options.databaseUrl);
  let seconds: number;
  try {
    const t0 = performance.now();
    await forEachLimit(
      Array.from({ length: options.burst }, (_, i) => i),
      ENQUEUERS,
      () => burst.enqueue(),
    );
    if (process.env.BENCH_MARK)
      console.log(
        `\n${queue.label} ${options.slots}: enqueued in ${((performance.now() - t0) / 1000).toFixed(2)} s`,
      );
    await waitUntil(
      async () => (await burst.finished()) === options.burst,
      240_000,
      `${queue.label} burst at ${options.slots} slots`,
    ).catch(async (error: Error) => {
      throw new Error(
        `${error.message} (${(await burst.describe?.().catch((e: unknown) => `no details: ${String(e)}`)) ?? "no details"})`,
      );
    });
    seconds = (performance.now() - t0) / 1000;
    cost.sample();
  } finally {
    await burst.stop();
  }
  return {
    p50: percentile(waits, 50),
    p99: percentile(waits, 99),
    perSecond: options.burst / seconds,
    cost: await cost.finish(options.burst),
  };
}

const perExecution = (cost: Cost) =>
  `${cost.commitsPerJob.toFixed(2)} commits · ${cost.cpuMsPerJob.toFixed(2)} ms CPU`;

/**
 * The same burst of executions (the builtin `system.wait` with no steps, spread over the seeded users) drained
 * by `processes` × `npm run worker` (16 slots each, application limit 32), started on an idle queue: executions/s from the INSERT
 * of the burst to the last finish, and a check that every execution ran exactly once (SUCCESS, attempt 1).
 */
async function drainByWorkerProcesses(databaseUrl: string, processes: number, count: number) {
  const handle = createDatabase({ url: databaseUrl, maxConnections: 2 });
  const db = handle.db;
  await db.execute(sql`delete from executions`);
  await db.execute(sql`vacuum analyze executions`);
  const children = await startWorkerProcesses(databaseUrl, processes, {
    WORKER_CONCURRENCY: "16",
    BACKGROUND_MAX_CONCURRENT: "32",
    BACKGROUND_MAX_PER_USER: "32",
  });
  try {
    const t0 = performance.now();
    await db.execute(sql`
      with burst as (
        insert into executions (chain_name, title, user_id, session_id, input)
        select 'system.wait', 'Wait', u.ids[1 + g % cardinality(u.ids)], 'bench', '{"steps": 0, "stepMs": 0}'::jsonb
        from generate_series(1, ${count}) g, (select array_agg(id order by id) as ids from users) u
        returning id)
      select (select count(*) from burst), pg_notify(${EXECUTIONS_CHANNEL}, '')`);
    await waitUntil(
      async () => {
        const [row] = await queryRows<{ open: number }>(
          db,
          sql`select count(*)::int as open from executions where status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')`,
        );
        return row?.open === 0;
      },
      300_000,
      `${processes} worker processes`,
    );
    const seconds = (performance.now() - t0) / 1000;
    const [row] = await queryRows<{ once: number; other: number }>(
      db,
      sql`select count(*) filter (where status = 'SUCCESS' and attempt = 1)::int as once,
                 count(*) filter (where status <> 'SUCCESS' or attempt <> 1)::int as other
          from executions where chain_name = 'system.wait'`,
    );
    const split = await stopWorkers(children, "executions");
    return { rate: count / seconds, once: row?.once ?? 0, other: row?.other ?? 0, split };
  } finally {
    for (const child of children) await stopProcess(child);
    await handle.close();
  }
}

/** A queue measured at each slot count; the fastest burst is its best setting. */
async function atBest(queue: QueueUnderTest, options: ChainBenchOptions) {
  const runs: (Figures & { slots: number })[] = [];
  for (const [n, slots] of options.slotChoices.entries()) {
    runs.push({ slots, ...(await measure(queue, { ...options, slots }, { singles: n === 0 })) });
  }
  const best = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  // Wait-to-start comes from the first setting's singles (they find idle workers at any slot count).
  return { ...best, p50: runs[0]!.p50, p99: runs[0]!.p99, label: queue.label, runs };
}

const settings = (runs: (Figures & { slots: number })[]) =>
  runs.map((run) => `${run.slots}: ${Math.round(run.perSecond)}/s`).join(", ");

/** The `npm run worker` row: the same burst drained by one process, then by two. */
async function workerProcessRows(options: ChainBenchOptions): Promise<Row[]> {
  if (!options.workerProcesses) return [];
  const one = await drainByWorkerProcesses(options.databaseUrl, 1, options.burst);
  const two = await drainByWorkerProcesses(options.databaseUrl, 2, options.burst);
  return [
    {
      measure: `Chains drain by npm run worker processes, ${options.burst} executions: 2 processes vs 1`,
      ours: `${Math.round(two.rate)} exec/s`,
      baseline: `${Math.round(one.rate)} exec/s`,
      note: `ratio ${(two.rate / one.rate).toFixed(2)}×; ran exactly once: 2 processes ${two.once}/${options.burst} (${two.other} other; run by each process: ${two.split}), 1 process ${one.once}/${options.burst} (${one.other} other)`,
    },
  ];
}

/** Ours with a three-step chain at the trivial chain's best slot count: what the checkpoints cost. */
async function stepsRow(options: ChainBenchOptions, trivial: Figures & { slots: number }): Promise<Row> {
  const steps = await measure(
    oursRunning(threeStepChain, "ours, 3 steps"),
    { ...options, slots: trivial.slots },
    {
      singles: false,
    },
  );
  return {
    measure: `Chains, a 3-step chain (a checkpoint after each step but the last), ${options.burst} at once, ${trivial.slots} slots`,
    ours: `${Math.round(steps.perSecond)} exec/s`,
    baseline: `1 step ${Math.round(trivial.perSecond)} exec/s`,
    note: `${perExecution(steps.cost)} (1 step: ${perExecution(trivial.cost)})`,
  };
}

export async function benchChains(options: ChainBenchOptions): Promise<Row[]> {
  const a = await atBest(ours, options);
  const stepRows = [await stepsRow(options, a)];
  if (!options.baselines) {
    return [
      ...(await workerProcessRows(options)),
      {
        measure: `Chains burst, ${options.burst} (ours only; slots ${settings(a.runs)})`,
        ours: `${Math.round(a.perSecond)} exec/s`,
        baseline: "—",
        note: `${perExecution(a.cost)}; wait-to-start p50 ${a.p50.toFixed(1)} ms`,
      },
      ...stepRows,
    ];
  }
  const b = await atBest(pgBoss, options);
  const c = await atBest(graphileWorker, options);
  const best = b.perSecond >= c.perSecond ? b : c;
  return [
    ...(await workerProcessRows(options)),
    {
      measure: `Chains wait-to-start, ${options.singles} singles ${SINGLES_GAP_MS} ms apart`,
      ours: `p50 ${a.p50.toFixed(1)} ms · p99 ${a.p99.toFixed(1)} ms`,
      baseline: `pg-boss p50 ${b.p50.toFixed(1)} · p99 ${b.p99.toFixed(1)} ms; graphile-worker p50 ${c.p50.toFixed(1)} · p99 ${c.p99.toFixed(1)} ms`,
      note: "target p50 ≤ 5 ms",
    },
    {
      measure: `Chains throughput, ${options.burst} enqueued at once (${ENQUEUERS} callers), each at its best slot count`,
      ours: `${Math.round(a.perSecond)} exec/s (${a.slots} slots)`,
      baseline: `pg-boss ${Math.round(b.perSecond)}/s (${b.slots} workers × batch 512); graphile-worker ${Math.round(c.perSecond)}/s (${c.slots})`,
      note: `ratio ${(a.perSecond / best.perSecond).toFixed(2)}× the best (${best.label}); target ≥ 1.5×; by slots — ours ${settings(a.runs)}; pg-boss ${settings(b.runs)}; graphile-worker ${settings(c.runs)}`,
    },
    {
      measure:
        "Chains cost per execution (burst at the best setting: bench process + its PostgreSQL backends)",
      ours: perExecution(a.cost),
      baseline: `pg-boss ${perExecution(b.cost)}; graphile-worker ${perExecution(c.cost)}`,
      note: "target ≤ 2 commits and ≤ 1 ms CPU",
    },
    ...stepRows,
  ];
}
