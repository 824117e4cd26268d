import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { type Database, notify, queryRows } from "@/db/client";
import { freeSlotsOf } from "./execution-slots";
import { tellWatchers } from "./tell-watchers";

export const WORKER_STOPPED = "worker stopped before the execution finished";

/**
 * Ends (or re-queues) EXECUTING executions matching `where` whose worker is gone: its lease expired, or it
 * handed them back at shutdown. Aborted ones end ABORTED; ones with attempts left wait again and resume
 * after their last completed step (state and completed_through are kept); the others end FAILED. Either
 * way the attempt goes into the history.
 */
export async function endHeldExecutions(db: Database, where: SQL): Promise<number> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
    with target as (
      select id, abort_requested as aborted,
        (not abort_requested and attempt < max_attempts) as requeue
      from executions
      where status = 'EXECUTING' and ${where}
      for update skip locked
    ),
    ended as (
    update executions e
    set status = (case when t.aborted then 'ABORTED' when t.requeue then 'ENQUEUED' else 'FAILED' end)::execution_status,
        error = case when t.aborted or t.requeue then null else ${WORKER_STOPPED} end,
        status_message = case when t.requeue then 'Queued again: its worker stopped' else e.status_message end,
        started_at = case when t.requeue then null else e.started_at end,
        finished_at = case when t.requeue then null else clock_timestamp() end,
        step_name = case when t.requeue then null else e.step_name end,
        step_sequence = case when t.requeue then null else e.step_sequence end,
        sofar = case when t.requeue then null else e.sofar end,
        totalwork = case when t.requeue then null else e.totalwork end,
        attempt_log = case when t.aborted then e.attempt_log else e.attempt_log || jsonb_build_array(jsonb_build_object(
          'attempt', e.attempt, 'step', e.step_name, 'error', ${WORKER_STOPPED}::text, 'at', clock_timestamp())) end,
        lease_owner = null, lease_expires_at = null, awaiting_child = false, updated_at = clock_timestamp()
    from target t
    where e.id = t.id
    returning e.id),
    freed as (${freeSlotsOf(sql`ended`)})
    select id from ended`,
  );
  if (rows.length > 0) {
    await notify(db, EXECUTIONS_CHANNEL);
    await tellWatchers(
      db,
      rows.map((row) => Number(row.id)),
    );
  }
  return rows.length;
}
