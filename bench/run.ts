// `npm run bench`: every figure of SPEC Q2 / issue 7 measured in one run on this machine, against a real
// PostgreSQL (TEST_DATABASE_URL's server, default the local one), each next to its baseline.
// Each part gets a fresh database, dropped at the end. Sizes can be lowered for a quick look:
//   BENCH_PUSH_MESSAGES, BENCH_BASELINE_MESSAGES, BENCH_SENDER_CONCURRENCY, BENCH_FANOUT_ROUNDS, BENCH_CHAIN_SINGLES, BENCH_CHAIN_BURST, BENCH_PAGE_ROWS,
//   BENCH_PARTS=push,chains,pages,depth, BENCH_CHAIN_BASELINES=0, BENCH_CHAIN_SLOTS=8,32,64, BENCH_WORKER_PROCESSES=0, BENCH_DEPTHS=10000,100000,1000000, BENCH_DEPTH_DRAIN, BENCH_DEPTH_USERS (0 skips the many-users row). BENCH_MARK=1 prints diagnostics (profiling windows, transaction counts).
// Ports: push double 4300 (+4301 control), app server 3300.
import { randomBytes } from "node:crypto";
import { availableParallelism, loadavg } from "node:os";
import { createDatabase } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { seedDatabase } from "@/db/seed";
import { ensureVapidCredentials } from "@/lib/push/credentials";
import { benchChains } from "./chains";
import { benchDepth, writeDepthChart } from "./depth";
import { benchExecutionsDepth } from "./depth-executions";
import { benchPages } from "./pages";
import { benchPush, PUSH_DOUBLE_PORT } from "./push";
import { freshDatabase, machine, type Row, table } from "./support";

const DEMO_PASSWORD = "demo";
const SECRET = randomBytes(32).toString("base64url");
// The bench process is both the app (sendPushNotification) and a worker (the sender): configure it like one.
Object.assign(process.env, {
  NEXTAUTH_SECRET: SECRET,
  PUSH_ENDPOINT_ALLOWLIST: `localhost:${PUSH_DOUBLE_PORT}`,
  APP_URL: "http://localhost:3300",
  VAPID_SUBJECT: "mailto:bench@approval-notifications.example.com",
});
if (!process.env.NODE_EXTRA_CA_CERTS) {
  console.error("Run through `npm run bench` (NODE_EXTRA_CA_CERTS must trust the push double's test CA).");
  process.exit(2);
}

const size = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const parts = new Set((process.env.BENCH_PARTS ?? "push,chains,pages,depth").split(","));

async function withDatabase<T>(prefix: string, run: (url: string) => Promise<T>): Promise<T> {
  const database = await freshDatabase(prefix);
  try {
    const handle = createDatabase({ url: database.url, maxConnections: 2 });
    await migrateDatabase(handle, database.url);
    await seedDatabase(handle.db, DEMO_PASSWORD);
    await ensureVapidCredentials(handle.db);
    await handle.close();
    return await run(database.url);
  } finally {
    await database.drop();
  }
}

const started = performance.now();
const load = loadavg().map((value) => value.toFixed(2));
console.log(`Machine: ${await machine()} · load average at start ${load.join(" ")}`);
const rows: Row[] = [];
const section = async (name: string, run: () => Promise<Row[]>) => {
  if (!parts.has(name)) return;
  const t0 = performance.now();
  process.stdout.write(`… ${name} `);
  try {
    rows.push(...(await run()));
  } catch (error) {
    rows.push({ measure: name, ours: "failed", baseline: "—", note: String(error).slice(0, 300) });
    console.error(error);
  }
  console.log(`(${((performance.now() - t0) / 1000).toFixed(0)} s)`);
};

await section("push", () =>
  withDatabase("an_bench_push", (databaseUrl) =>
    benchPush({
      databaseUrl,
      messages: size("BENCH_PUSH_MESSAGES", 10_000),
      baselineMessages: size("BENCH_BASELINE_MESSAGES", 10_000),
      latencySamples: 100,
      senderConcurrency: size("BENCH_SENDER_CONCURRENCY", 128),
      scaleDevices: size("BENCH_SCALE_DEVICES", 100_000),
      workerProcesses: process.env.BENCH_WORKER_PROCESSES !== "0",
    }),
  ),
);
await section("depth", () =>
  withDatabase("an_bench_depth", async (databaseUrl) => {
    const depths = (process.env.BENCH_DEPTHS ?? "10000,100000,1000000").split(",").map(Number);
    const drain = size("BENCH_DEPTH_DRAIN", 10_000);
    const push = await benchDepth({ databaseUrl, depths, drain });
    const executions = await benchExecutionsDepth({
      databaseUrl,
      depths,
      drain,
      manyUsers: size("BENCH_DEPTH_USERS", 100_000),
    });
    writeDepthChart(push.points, executions.points);
    return [...push.rows, ...executions.rows];
  }),
);
await section("chains", () =>
  withDatabase("an_bench_chains", (databaseUrl) =>
    benchChains({
      databaseUrl,
      singles: size("BENCH_CHAIN_SINGLES", 1_000),
      burst: size("BENCH_CHAIN_BURST", 5_000),
      slotChoices: (process.env.BENCH_CHAIN_SLOTS ?? "8,32,64").split(",").map(Number),
      baselines: process.env.BENCH_CHAIN_BASELINES !== "0",
      workerProcesses: process.env.BENCH_WORKER_PROCESSES !== "0",
    }),
  ),
);
await section("pages", () =>
  withDatabase("an_bench_pages", (databaseUrl) =>
    benchPages({
      databaseUrl,
      rows: size("BENCH_PAGE_ROWS", 10_000),
      requests: 50,
      demoPassword: DEMO_PASSWORD,
      secret: SECRET,
    }),
  ),
);

console.log();
console.log(table(rows));
console.log(
  `\nWhole run ${((performance.now() - started) / 1000).toFixed(0)} s on ${availableParallelism()} cores · ` +
    `load average at end ${loadavg()
      .map((value) => value.toFixed(2))
      .join(" ")}`,
);
process.exit(0);
