import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { heldBy, type Lease } from "./held";
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

/**
 * Writes a running execution's progress (and, after a completed step, its checkpoint: the state and the
 * step's sequence) while the lease is still this attempt's. Returns whether an abort was requested, or
 * null when the lease is gone.
 */
export async function recordProgress(
  db: Database,
  lease: Lease,
  pending: PendingProgress,
  checkpoint?: { state: string; completedThrough: number },
): Promise<boolean | null> {
  const saved = checkpoint
    ? sql`, state = ${checkpoint.state}::jsonb, completed_through = ${checkpoint.completedThrough}`
    : sql``;
  const [row] = await queryRows<{ abort_requested: boolean }>(
    db,
    sql`with changed as (
          update executions set ${progressColumns(pending)}${saved}, updated_at = clock_timestamp()
          where ${heldBy(lease)}
          returning id, abort_requested),
        told as (${tellWatchersOf(sql`changed`)})
        select abort_requested, (select count(*) from told) as told from changed`,
    { prepared: true },
  );
  return row ? row.abort_requested : null;
}

/** Whether someone asked to abort the execution. */
export async function readAbortRequest(db: Database, id: number): Promise<boolean> {
  const [row] = await queryRows<{ abort_requested: boolean }>(
    db,
    sql`select abort_requested from executions where id = ${id}`,
  );
  return row?.abort_requested ?? false;
}
