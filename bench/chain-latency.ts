// Wait-to-start latency of trivial background executions: created_at → started_at, measured by the
// database clock. Run: npx tsx --conditions=react-server bench/chain-latency.ts [count]
// Uses a fresh database on TEST_DATABASE_URL's server (default: local PostgreSQL), dropped at the end.
import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { createDatabase, queryRows } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { seedDatabase } from "@/db/seed";
import { runInBackground } from "@/lib/chains/background";
import { waitChain } from "@/lib/chains/builtin";
import { executionsConsumer } from "@/lib/chains/consumer";
import { WorkerHost } from "@/lib/worker/host";

const count = Number(process.argv[2] ?? 1000);
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = `an_bench_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
const url = new URL(adminUrl);
url.pathname = `/${name}`;

async function admin(statement: string) {
  const client = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await client.unsafe(statement);
  } finally {
    await client.end();
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function measure(mode: "one by one" | "burst") {
  const handle = createDatabase({ url: url.toString(), maxConnections: 10 });
  const db = handle.db;
  await db.execute(sql`delete from executions`);
  const [bo] = await queryRows<{ id: number }>(db, sql`select id from users where username = 'bo'`);
  const user = { id: bo!.id, username: "bo" };
  const host = new WorkerHost(handle, "worker", { info: () => {}, error: console.error }).register(
    executionsConsumer({ maxConcurrent: 8, concurrency: 8, pollMs: 1_000 }),
  );
  await host.start();
  const t0 = Date.now();
  if (mode === "one by one") {
    for (let i = 0; i < count; i++) await runInBackground(waitChain, { steps: 0, stepMs: 0 }, { user, db });
  } else {
    await Promise.all(
      Array.from({ length: count }, () => runInBackground(waitChain, { steps: 0, stepMs: 0 }, { user, db })),
    );
  }
  for (;;) {
    const [left] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from executions where status <> 'SUCCESS'`,
    );
    if (left?.n === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const elapsed = Date.now() - t0;
  const rows = await queryRows<{ wait_ms: number }>(
    db,
    sql`select extract(epoch from (started_at - created_at)) * 1000 as wait_ms from executions`,
  );
  await host.stop(1_000);
  await handle.close();
  const waits = rows.map((row) => Number(row.wait_ms)).sort((a, b) => a - b);
  console.log(
    `${mode.padEnd(10)}  n=${waits.length}  wait-to-start p50=${percentile(waits, 50).toFixed(1)} ms  ` +
      `p99=${percentile(waits, 99).toFixed(1)} ms  max=${waits.at(-1)?.toFixed(1)} ms  ` +
      `throughput=${Math.round((count / elapsed) * 1000)}/s`,
  );
}

await admin(`create database "${name}"`);
try {
  const handle = createDatabase({ url: url.toString(), maxConnections: 2 });
  await migrateDatabase(handle, url.toString());
  await seedDatabase(handle.db, "demo");
  await handle.close();
  console.log(`chain wait-to-start, ${count} trivial executions, 1 worker host (8 slots, limit 8)`);
  await measure("one by one");
  await measure("burst");
} finally {
  await admin(`drop database if exists "${name}" with (force)`);
}
