import "server-only";
import { sql } from "drizzle-orm";
import { Batcher, batcherPerHandle } from "@/db/batch";
import { type Database, intArray, queryRows } from "@/db/client";
import { heldByInput, type Lease } from "./held";
import { tellWatchersOf } from "./tell-watchers";

export interface PendingProgress {
  sofar: number | null;
  totalwork: number | null;
  message: string | null;
  /** The step being run, not written yet. */
  stepName: string | null;
  stepSequence: number | null;
}

export const progressColumns = (pending: PendingProgress) =>
  sql`sofar = coalesce(${pending.sofar}::int, sofar), totalwork = coalesce(${pending.totalwork}::int, totalwork),
      status_message = coalesce(${pending.message}::text, status_message),
      step_name = coalesce(${pending.stepName}::text, step_name),
      step_sequence = coalesce(${pending.stepSequence}::int, step_sequence)`;

/** A PendingProgress as columns of a jsonb_to_recordset row (named as the object's keys). */
export const pendingInputColumns = sql.raw(
  `sofar int, totalwork int, message text, "stepName" text, "stepSequence" int`,
);

/** progressColumns for a statement over many executions: row `e` takes input row `i`'s pending progress. */
export const progressColumnsFromInput = sql`sofar = coalesce(i.sofar, e.sofar),
  totalwork = coalesce(i.totalwork, e.totalwork), status_message = coalesce(i.message, e.status_message),
  step_name = coalesce(i."stepName", e.step_name), step_sequence = coalesce(i."stepSequence", e.step_sequence)`;

/**
 * Writes a running execution's progress (and, after a completed step, its checkpoint: the state and the
 * step's sequence) while the lease is still this attempt's. Returns whether an abort was requested, or
 * null when the lease is gone. Writes of many executions made at the same time share one statement (a
 * chain of several steps commits a checkpoint between them: one commit per group instead of one each).
 */
export function recordProgress(
  db: Database,
  lease: Lease,
  pending: PendingProgress,
  checkpoint?: { state: string; completedThrough: number },
): Promise<boolean | null> {
  return progressBatcherFor(db).add({ lease, pending, checkpoint });
}

interface ProgressWrite {
  lease: Lease;
  pending: PendingProgress;
  checkpoint?: { state: string; completedThrough: number };
}

async function recordProgressWrites(db: Database, writes: ProgressWrite[]): Promise<(boolean | null)[]> {
  const rows = writes.map(({ lease, pending, checkpoint }) => ({
    id: lease.id,
    worker_id: lease.workerId,
    attempt: lease.attempt,
    ...pending,
    checkpoint: checkpoint !== undefined,
    state: checkpoint?.state ?? null,
    completed_through: checkpoint?.completedThrough ?? null,
  }));
  // `e.id = any(ids)` besides the join: the prepared (generic) plan probes the primary key whatever the
  // table's size (see markSent in lib/push/sender.ts).
  const changed = await queryRows<{ id: number; abort_requested: boolean }>(
    db,
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as i(
            id int, worker_id text, attempt int, ${pendingInputColumns}, checkpoint boolean, state text,
            completed_through int)),
        changed as (
          update executions e
          set ${progressColumnsFromInput},
              state = case when i.checkpoint then i.state::jsonb else e.state end,
              completed_through = case when i.checkpoint then i.completed_through else e.completed_through end,
              updated_at = clock_timestamp()
          from input i
          where e.id = any(${intArray(rows.map((row) => row.id))}) and ${heldByInput}
          returning e.id, e.abort_requested),
        told as (${tellWatchersOf(sql`changed`)})
        select c.id, c.abort_requested, (select count(*) from told) as told from changed c`,
    { prepared: true },
  );
  const abortRequested = new Map(changed.map((row) => [Number(row.id), row.abort_requested]));
  return writes.map((write) => abortRequested.get(write.lease.id) ?? null);
}

const progressBatcherFor = batcherPerHandle(
  (db: Database) =>
    new Batcher<ProgressWrite, boolean | null>((writes) => recordProgressWrites(db, writes), {
      maxItems: 128,
      maxInFlight: 1,
    }),
);

/** Whether someone asked to abort the execution. */
export async function readAbortRequest(db: Database, id: number): Promise<boolean> {
  const [row] = await queryRows<{ abort_requested: boolean }>(
    db,
    sql`select abort_requested from executions where id = ${id}`,
  );
  return row?.abort_requested ?? false;
}
