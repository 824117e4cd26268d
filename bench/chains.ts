// Background executions: wait-to-start latency and burst throughput of trivial executions, ours against
// pg-boss doing the same work on the same PostgreSQL. Wait-to-start is measured by the database clock
// (created → started) for both.
import { sql } from "drizzle-orm";
import PgBoss from "pg-boss";
import { createDatabase, queryRows } from "@/db/client";
import { executionsConsumer, runInBackground, waitChain } from "@/lib/chains";
import { WorkerHost } from "@/lib/worker/host";
import { forEachLimit, percentile, type Row, sleep } from "./support";

export interface ChainBenchOptions {
  databaseUrl: string;
  singles: number;
  burst: number;
  /** Slots: executions in flight at once (ours: app-wide limit and per-process concurrency). */
  slots: number;
}

const SINGLES_GAP_MS = 5;

interface Figures {
  p50: number;
  p99: number;
  perSecond: number;
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function ours(options: ChainBenchOptions): Promise<Figures> {
  const handle = createDatabase({ url: options.databaseUrl, maxConnections: 10 });
  const enqueuer = createDatabase({ url: options.databaseUrl, maxConnections: 8 });
  const db = enqueuer.db;
  const [bo] = await queryRows<{ id: number }>(db, sql`select id from users where username = 'bo'`);
  const user = { id: bo!.id, username: "bo" };
  const host = new WorkerHost(handle, "worker", { info: () => {}, error: console.error }).register(
    executionsConsumer({ maxConcurrent: options.slots, concurrency: options.slots, pollMs: 1_000 }),
  );
  await host.start();
  const input = { steps: 0, stepMs: 0 };
  const left = async () => {
    const [row] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from executions where status not in ('SUCCESS', 'FAILED', 'ABORTED')`,
    );
    return row?.n ?? -1;
  };
  try {
    // One at a time, a few milliseconds apart: trivial executions finish long before the slots fill up.
    for (let i = 0; i < options.singles; i++) {
      await runInBackground(waitChain, input, { user, db });
      await sleep(SINGLES_GAP_MS);
    }
    await waitUntil(async () => (await left()) === 0, 60_000, "the singles");
    const waits = (
      await queryRows<{ ms: number }>(
        db,
        sql`select extract(epoch from (started_at - created_at)) * 1000 as ms from executions`,
      )
    ).map((row) => Number(row.ms));
    await db.execute(sql`delete from executions`);

    // Burst: all enqueued at once (16 concurrent callers), measured until the last one finished.
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await forEachLimit(
      Array.from({ length: options.burst }, (_, i) => i),
      16,
      async () => {
        await runInBackground(waitChain, input, { user, db });
      },
    );
    const enqueuedSeconds = (performance.now() - t0) / 1000;
    await waitUntil(async () => (await left()) === 0, 240_000, "the burst");
    const seconds = (performance.now() - t0) / 1000;
    if (process.env.BENCH_MARK) {
      const cpu = process.cpuUsage(cpu0);
      console.log(
        `\nours: burst enqueued in ${enqueuedSeconds.toFixed(1)} s, done in ${seconds.toFixed(1)} s, bench CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
      );
    }
    const [failed] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from executions where status <> 'SUCCESS'`,
    );
    if (failed?.n) throw new Error(`${failed.n} executions did not succeed`);
    return { p50: percentile(waits, 50), p99: percentile(waits, 99), perSecond: options.burst / seconds };
  } finally {
    await host.stop(1_000);
    await handle.close();
    await enqueuer.close();
  }
}

/**
 * pg-boss 10 (the newest that runs on Node 20) with its fastest polling (0.5 s, its minimum) and as many
 * workers as we have slots. A worker waits one polling interval after every fetch, so each fetches a batch.
 */
async function pgBoss(options: ChainBenchOptions): Promise<Figures> {
  const boss = new PgBoss({ connectionString: options.databaseUrl, max: 10, schema: "pgboss" });
  boss.on("error", (error) => console.error("[pg-boss]", error));
  await boss.start();
  const db = createDatabase({ url: options.databaseUrl, maxConnections: 2 });
  const count = async (queue: string, state: string) =>
    (
      await queryRows<{ n: number }>(
        db.db,
        sql`select count(*)::int as n from pgboss.job where name = ${queue} and state = ${state}`,
      )
    )[0]?.n ?? 0;
  try {
    const work = async (queue: string) => {
      await boss.createQueue(queue);
      for (let i = 0; i < options.slots; i++) {
        await boss.work(queue, { batchSize: 64, pollingIntervalSeconds: 0.5 }, async () => {});
      }
    };
    await work("bench-single");
    for (let i = 0; i < options.singles; i++) {
      await boss.send("bench-single", { steps: 0 });
      await sleep(SINGLES_GAP_MS);
    }
    await waitUntil(
      async () => (await count("bench-single", "completed")) === options.singles,
      60_000,
      "the pg-boss singles",
    );
    const waits = (
      await queryRows<{ ms: number }>(
        db.db,
        sql`select extract(epoch from (started_on - created_on)) * 1000 as ms from pgboss.job
            where name = 'bench-single'`,
      )
    ).map((row) => Number(row.ms));

    await work("bench-burst");
    const t0 = performance.now();
    await forEachLimit(
      Array.from({ length: options.burst }, (_, i) => i),
      16,
      async () => {
        await boss.send("bench-burst", { steps: 0 });
      },
    );
    await waitUntil(
      async () => (await count("bench-burst", "completed")) === options.burst,
      240_000,
      "the pg-boss burst",
    );
    const seconds = (performance.now() - t0) / 1000;
    return { p50: percentile(waits, 50), p99: percentile(waits, 99), perSecond: options.burst / seconds };
  } finally {
    await boss.stop({ graceful: true, wait: true, timeout: 5_000 });
    await db.close();
  }
}

export async function benchChains(options: ChainBenchOptions): Promise<Row[]> {
  const a = await ours(options);
  const b = await pgBoss(options);
  return [
    {
      measure: `Chains wait-to-start, ${options.singles} singles ${SINGLES_GAP_MS} ms apart`,
      ours: `p50 ${a.p50.toFixed(1)} ms · p99 ${a.p99.toFixed(1)} ms`,
      baseline: `p50 ${b.p50.toFixed(1)} ms · p99 ${b.p99.toFixed(1)} ms`,
      note: "target p50 ≤ 20 ms, p99 ≤ 100 ms",
    },
    {
      measure: `Chains throughput, ${options.burst} enqueued at once`,
      ours: `${Math.round(a.perSecond)} exec/s`,
      baseline: `${Math.round(b.perSecond)} exec/s`,
      note: `ratio ${(a.perSecond / b.perSecond).toFixed(2)}× (target ≥ 1×); ${options.slots} slots each`,
    },
  ];
}
