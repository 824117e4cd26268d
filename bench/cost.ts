// What one burst of jobs costs the machine, for any queue on the benchmark database: commits
// (pg_stat_database.xact_commit) and CPU of the bench process plus that database's backends (/proc).
import { readdirSync, readFileSync } from "node:fs";
import postgres from "postgres";

/** Linux reports process times in clock ticks of 1/100 s on every platform Node supports here. */
const TICKS_PER_SECOND = 100;

/** CPU milliseconds used so far by each backend serving `database`, by pid. */
export function backendCpu(database: string): Map<number, number> {
  const cpu = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "postgres: 15/main: <user> <database> <client> <state>"
      const title = readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ");
      if (!title.startsWith("postgres: ") || !title.split(" ").includes(database)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
      cpu.set(Number(entry), (ticks * 1000) / TICKS_PER_SECOND);
    } catch {
      // the process ended while we looked
    }
  }
  return cpu;
}

/** CPU milliseconds `database`'s backends used since `before` (a backendCpu() reading). */
export function backendCpuSince(database: string, before: Map<number, number>): number {
  let ms = 0;
  for (const [pid, used] of backendCpu(database)) ms += used - (before.get(pid) ?? 0);
  return ms;
}

async function commits(url: string, database: string): Promise<number> {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const [row] = await client<{ n: string }[]>`
      select xact_commit::text as n from pg_stat_database where datname = ${database}`;
    return Number(row?.n ?? 0);
  } finally {
    await client.end();
  }
}

export interface Cost {
  commitsPerJob: number;
  cpuMsPerJob: number;
}

/**
 * Starts counting. `sample()` reads the CPU figures while the queue's connections are still open;
 * `finish(jobs)` reads commits after the queue has closed them (a backend flushes its statistics on exit).
 */
export async function startCost(url: string) {
  const database = new URL(url).pathname.slice(1);
  const commits0 = await commits(url, database);
  const backends0 = backendCpu(database);
  const process0 = process.cpuUsage();
  let cpuMs = 0;
  return {
    sample() {
      const used = process.cpuUsage(process0);
      cpuMs = (used.user + used.system) / 1000 + backendCpuSince(database, backends0);
    },
    async finish(jobs: number): Promise<Cost> {
      // A backend that is still open may hold up to a second of counts: wait for the exits to land.
      await new Promise((resolve) => setTimeout(resolve, 1_200));
      const commitCount = (await commits(url, database)) - commits0;
      return { commitsPerJob: commitCount / jobs, cpuMsPerJob: cpuMs / jobs };
    },
  };
}
