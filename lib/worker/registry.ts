import "server-only";
import { desc, gt, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { type WorkerProcess, workerProcesses } from "@/db/schema";
import { WORKER_STALE_AFTER_MS } from "./host";

/** Worker hosts that sent a heartbeat recently, newest first. */
export function listLiveWorkers(db: Executor): Promise<WorkerProcess[]> {
  return db
    .select()
    .from(workerProcesses)
    .where(
      gt(workerProcesses.heartbeatAt, sql`now() - make_interval(secs => ${WORKER_STALE_AFTER_MS / 1000})`),
    )
    .orderBy(desc(workerProcesses.startedAt));
}
