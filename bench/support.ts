// Shared pieces of `npm run bench`: fresh databases, child processes, percentiles, the result table.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus } from "node:os";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import type { Executor } from "@/db/client";

export const ADMIN_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

/** Wall-clock milliseconds with sub-millisecond resolution (the push double stamps the same way). */
export const preciseNow = () => performance.timeOrigin + performance.now();

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * After a bulk fill (setup, not the measured work): vacuum and analyse the table, as autovacuum would, and
 * write the fill's WAL out in a checkpoint, so that the measurement does not pay for it (a checkpoint set
 * off by the 1M fill's two million rows once ran through the middle of the 1M drain). CHECKPOINT needs a
 * superuser or pg_checkpoint; without either the bench goes on without it.
 */
export async function settleAfterFill(db: Executor, table: "push_messages" | "executions") {
  await db.execute(sql.raw(`vacuum analyze ${table}`));
  await db.execute(sql`checkpoint`).catch(() => {});
}

export async function adminSql(statement: string): Promise<void> {
  const client = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    await client.unsafe(statement);
  } finally {
    await client.end();
  }
}

/** An empty database on the benchmark server; `drop()` removes it (with any connections left). */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  await adminSql(`create database "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminSql(`drop database if exists "${name}" with (force)`) };
}

export async function machine(): Promise<string> {
  const client = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    const [row] = await client<{ server_version: string }[]>`show server_version`;
    const model = cpus()[0]?.model.trim() ?? "unknown CPU";
    return `${cpus().length} cores (${model}) · Node ${process.version} · PostgreSQL ${row?.server_version}`;
  } finally {
    await client.end();
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return (
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN
  );
}

/** The last 20,000 characters each started child wrote (stdout and stderr). */
const outputs = new WeakMap<ChildProcess, () => string>();

/** Starts a child process and resolves once a line of its output matches `ready`. */
export async function startProcess(
  label: string,
  command: string,
  args: string[],
  { env, ready, timeoutMs }: { env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs: number },
): Promise<ChildProcess> {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  let output = "";
  outputs.set(child, () => output);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${label} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    function fail(error: Error) {
      clearTimeout(timer);
      reject(new Error(`${error.message}\n--- ${label} output ---\n${output}`));
    }
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => fail(new Error(`${label} exited with ${code}`)));
  });
  return child;
}

/** Stops a child started by startProcess, and its children (`npm start` spawns `next start`). */
export async function stopProcess(child: ChildProcess | undefined): Promise<string> {
  const output = () => (child ? (outputs.get(child)?.() ?? "") : "");
  if (!child?.pid || child.exitCode !== null) return output();
  const exited = new Promise((resolve) => child.once("exit", resolve));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return output();
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  }, 5_000);
  await exited;
  clearTimeout(timer);
  return output();
}

/** Stops `npm run worker` processes; how many jobs of `consumer` each reports it processed ("2480 + 2520"). */
export async function stopWorkers(children: ChildProcess[], consumer: string): Promise<string> {
  const counts: string[] = [];
  for (const child of children) counts.push(String(processedBy(await stopProcess(child), consumer) ?? "?"));
  return counts.join(" + ");
}

/** How many jobs of `consumer` a stopped `npm run worker` reports it processed (its last log line). */
function processedBy(output: string, consumer: string): number | null {
  const line = /\[worker\] stopped \((.*)\)/.exec(output)?.[1] ?? "";
  const match = new RegExp(`(?:^|; )${consumer} (\\d+) processed`).exec(line);
  return match ? Number(match[1]) : null;
}

/** Runs `task` over `items` with at most `limit` in flight. */
export async function forEachLimit<T>(items: T[], limit: number, task: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

export interface Row {
  measure: string;
  ours: string;
  baseline: string;
  note: string;
}

export const fmt = {
  ms: (value: number) => (Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)} ms` : "n/a"),
  rate: (value: number, unit: string) => (Number.isFinite(value) ? `${Math.round(value)} ${unit}` : "n/a"),
  ratio: (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "n/a"),
};

export function table(rows: Row[]): string {
  const head: Row = { measure: "Measure", ours: "Ours", baseline: "Baseline", note: "Target / note" };
  const all = [head, ...rows];
  const width = (key: keyof Row) => Math.max(...all.map((row) => row[key].length));
  const line = (row: Row) =>
    `| ${(["measure", "ours", "baseline", "note"] as const).map((key) => row[key].padEnd(width(key))).join(" | ")} |`;
  const rule = `|${(["measure", "ours", "baseline", "note"] as const).map((key) => "-".repeat(width(key) + 2)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** `count` × `npm run worker` against `databaseUrl`, each started and ready (its host running). */
export async function startWorkerProcesses(
  databaseUrl: string,
  count: number,
  env: Record<string, string>,
): Promise<ChildProcess[]> {
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < count; i++) {
      children.push(
        await startProcess(
          `npm run worker ${i + 1}`,
          process.execPath,
          ["--conditions=react-server", "--import", "tsx", "lib/runtime/worker-cli.ts"],
          {
            env: { ...process.env, NODE_ENV: "production", DATABASE_URL: databaseUrl, ...env },
            ready: /\[worker\] .* started/,
            timeoutMs: 120_000,
          },
        ),
      );
    }
    return children;
  } catch (error) {
    for (const child of children) await stopProcess(child);
    throw error;
  }
}
