import "server-only";
import { sql } from "drizzle-orm";
import { Gauge, Histogram } from "prom-client";
import { type Executor, queryRows } from "@/db/client";
import { executionStatuses, pushMessageStatuses, pushPriorities } from "@/db/schema";
import { listLiveWorkers } from "@/lib/worker/registry";
import { metricsRegistry } from "./registry";

/**
 * Metrics read from the database at scrape time (so they cover every worker process, not only this one):
 * queue depths by status, push outcomes by status code, live workers, and execution wait-to-start and
 * duration histograms fed from executions that finished since the previous scrape.
 */
const EXECUTION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Finished executions read per scrape at most (the rest are read by the next scrape). */
const EXECUTIONS_PER_SCRAPE = 10_000;

interface Collectors {
  pushQueue: Gauge<"status" | "priority">;
  pushStatusCodes: Gauge<"status" | "status_code">;
  executionsQueue: Gauge<"status">;
  workers: Gauge<"kind">;
  waitToStart: Histogram;
  duration: Histogram;
  /** Executions finished after this moment have not been observed yet. */
  watermark: string;
}

const globalForCollectors = globalThis as unknown as { __approvalCollectors?: Collectors };

function collectors(): Collectors {
  if (globalForCollectors.__approvalCollectors) return globalForCollectors.__approvalCollectors;
  const registers = [metricsRegistry()];
  const made: Collectors = {
    pushQueue: new Gauge({
      name: "push_queue_messages",
      help: "Push queue rows by status and priority.",
      labelNames: ["status", "priority"],
      registers,
    }),
    pushStatusCodes: new Gauge({
      name: "push_queue_last_status_code_messages",
      help: "Push queue rows by status and the push service's last answer (all worker processes).",
      labelNames: ["status", "status_code"],
      registers,
    }),
    executionsQueue: new Gauge({
      name: "executions_queue_executions",
      help: "Background executions by status.",
      labelNames: ["status"],
      registers,
    }),
    workers: new Gauge({
      name: "worker_processes_live",
      help: "Worker hosts with a recent heartbeat, by kind (web, worker).",
      labelNames: ["kind"],
      registers,
    }),
    waitToStart: new Histogram({
      name: "execution_wait_to_start_seconds",
      help: "Background executions finished since this process started: created → started.",
      buckets: EXECUTION_BUCKETS,
      registers,
    }),
    duration: new Histogram({
      name: "execution_duration_seconds",
      help: "Background executions finished since this process started: started → finished.",
      buckets: EXECUTION_BUCKETS,
      registers,
    }),
    watermark: new Date().toISOString(),
  };
  globalForCollectors.__approvalCollectors = made;
  return made;
}

/** Refreshes the database-backed metrics, then renders the whole registry in the Prometheus text format. */
export async function renderMetrics(db: Executor): Promise<{ contentType: string; body: string }> {
  const c = collectors();
  const [pushRows, codeRows, executionRows, workers, finished] = await Promise.all([
    queryRows<{ status: string; priority: string; n: number }>(
      db,
      sql`select status, priority, count(*)::int as n from push_messages group by status, priority`,
    ),
    queryRows<{ status: string; code: number; n: number }>(
      db,
      sql`select status, last_status_code as code, count(*)::int as n from push_messages
          where last_status_code is not null group by status, last_status_code`,
    ),
    queryRows<{ status: string; n: number }>(
      db,
      sql`select status, count(*)::int as n from executions group by status`,
    ),
    listLiveWorkers(db),
    queryRows<{ wait: number | null; duration: number | null; finished_at: string }>(
      db,
      sql`select extract(epoch from started_at - created_at)::float8 as wait,
            extract(epoch from finished_at - started_at)::float8 as duration,
            to_char(finished_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as finished_at
          from executions
          where finished_at > ${c.watermark}::timestamptz and started_at is not null
          order by finished_at limit ${EXECUTIONS_PER_SCRAPE}`,
    ),
  ]);
  c.pushQueue.reset();
  for (const status of pushMessageStatuses) {
    for (const priority of pushPriorities) c.pushQueue.set({ status, priority }, 0);
  }
  for (const row of pushRows) c.pushQueue.set({ status: row.status, priority: row.priority }, row.n);
  c.pushStatusCodes.reset();
  for (const row of codeRows)
    c.pushStatusCodes.set({ status: row.status, status_code: String(row.code) }, row.n);
  c.executionsQueue.reset();
  for (const status of executionStatuses) c.executionsQueue.set({ status }, 0);
  for (const row of executionRows) c.executionsQueue.set({ status: row.status }, row.n);
  c.workers.reset();
  c.workers.set({ kind: "web" }, 0);
  c.workers.set({ kind: "worker" }, 0);
  for (const worker of workers) c.workers.inc({ kind: worker.kind });
  for (const row of finished) {
    if (row.wait !== null) c.waitToStart.observe(Math.max(0, row.wait));
    if (row.duration !== null) c.duration.observe(Math.max(0, row.duration));
    c.watermark = row.finished_at;
  }
  const registry = metricsRegistry();
  return { contentType: registry.contentType, body: await registry.metrics() };
}
