import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import type { Database } from "@/db/client";
import { heldBy, type Lease } from "./held";
import { type PendingProgress, progressColumns } from "./record-progress";
import { tellWatchersOf } from "./tell-watchers";

export type Ending =
  | { kind: "success"; state: unknown }
  | { kind: "aborted" }
  | { kind: "failed"; error: string; stepName?: string | null }
  /** Failed, with attempts left: waits (SCHEDULED) until `delayMs` passed, then runs again. */
  | { kind: "retry"; error: string; delayMs: number; stepName: string | null };

/**
 * The final UPDATE of an attempt, fenced by its lease. It also wakes the other worker processes, in the
 * same round trip, when one of them may be waiting for this slot: the application-wide limit was reached
 * (the count still includes this execution), or this one held back others of its session or chain.
 * Otherwise nobody waits for it: this process claims again by itself (the host wakes it), and others were
 * free to claim all along. A NOTIFY is not free: PostgreSQL serializes notifying commits, WAL flush included.
 */
export async function finishExecution(
  db: Database,
  {
    lease,
    pending,
    ending,
    limited,
    appLimit,
  }: {
    lease: Lease;
    pending: PendingProgress;
    ending: Ending;
    limited: boolean;
    appLimit: number;
  },
): Promise<void> {
  const end = sql`finished_at = clock_timestamp(), updated_at = clock_timestamp(),
    lease_owner = null, lease_expires_at = null`;
  let update: SQL;
  switch (ending.kind) {
    case "success":
      update = sql`update executions
        set status = (case when abort_requested then 'ABORTED' else 'SUCCESS' end)::execution_status,
            error = null, state = ${JSON.stringify(ending.state)}::jsonb, ${progressColumns(pending)}, ${end}
        where ${heldBy(lease)}`;
      break;
    case "aborted":
      update = sql`update executions set status = 'ABORTED', ${progressColumns(pending)}, ${end}
        where ${heldBy(lease)}`;
      break;
    case "failed":
      update = sql`update executions set status = 'FAILED', error = ${ending.error}, ${progressColumns(pending)},
          attempt_log = attempt_log || ${attemptEntry(lease, ending.error, ending.stepName ?? null)}::jsonb, ${end}
        where ${heldBy(lease)}`;
      break;
    case "retry":
      update = sql`update executions
        set status = (case when abort_requested then 'ABORTED' else 'SCHEDULED' end)::execution_status,
            error = ${ending.error},
            ${progressColumns({ ...pending, message: `Attempt ${lease.attempt} failed; trying again` })},
            attempt_log = attempt_log || ${attemptEntry(lease, ending.error, ending.stepName)}::jsonb,
            run_at = clock_timestamp() + make_interval(secs => ${ending.delayMs / 1000}),
            finished_at = case when abort_requested then clock_timestamp() else null end,
            updated_at = clock_timestamp(), lease_owner = null, lease_expires_at = null
        where ${heldBy(lease)}`;
      break;
  }
  await db.execute(
    sql`with ended as (${update} returning id),
        woken as (
          select pg_notify(${EXECUTIONS_CHANNEL}, '')
          where exists (select 1 from worker_processes where id <> ${lease.workerId} and 'executions' = any(consumers))
            and (${limited} or (select count(*) from executions where status = 'EXECUTING' and not awaiting_child) >= ${appLimit})),
        told as (${tellWatchersOf(sql`ended`)})
        select (select count(*) from woken) as woken, (select count(*) from told) as told`,
  );
}

function attemptEntry(lease: Lease, error: string, stepName: string | null): string {
  return JSON.stringify([{ attempt: lease.attempt, step: stepName, error, at: new Date().toISOString() }]);
}
