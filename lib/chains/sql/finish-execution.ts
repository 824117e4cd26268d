import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { Batcher, batcherPerHandle } from "@/db/batch";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { type Database, queryRows } from "@/db/client";
import { freeHeldSlots } from "./execution-slots";
import { heldBy, heldByInput, type Lease } from "./held";
import {
  type PendingProgress,
  pendingInputColumns,
  progressColumns,
  progressColumnsFromInput,
} from "./record-progress";
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
    slot,
    pending,
    ending,
    limited,
    appLimit,
  }: {
    lease: Lease;
    /** The execution_slots row the execution holds (0: none). */
    slot: number;
    pending: PendingProgress;
    ending: Ending;
    limited: boolean;
    appLimit: number;
  },
): Promise<void> {
  if (ending.kind === "success") {
    await successBatcherFor(db).add({ lease, slot, pending, state: ending.state, limited, appLimit });
    return;
  }
  let update: SQL;
  switch (ending.kind) {
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
  await queryRows(
    db,
    sql`with ended as (${update} returning id),
        freed as (${freeHeldSlots(sql`select ${slot}::int, id from ended`)}),
        woken as (${wakeOthers(lease.workerId, sql`${limited}`, appLimit)}),
        told as (${tellWatchersOf(sql`ended`)})
        select (select count(*) from woken) as woken, (select count(*) from told) as told`,
    { prepared: true },
  );
}

/**
 * A CTE body that wakes the other worker processes when one may be waiting for the slots just freed: the
 * application-wide limit was reached (the count still includes these executions), or `limited` (these held
 * back others of their user, session or chain).
 */
const wakeOthers = (workerId: string, limited: SQL, appLimit: number) =>
  sql`select pg_notify(${EXECUTIONS_CHANNEL}, '')
      where exists (select 1 from worker_processes where id <> ${workerId} and 'executions' = any(consumers))
        and (${limited} or (select count(*) from executions where status = 'EXECUTING' and not awaiting_child) >= ${appLimit})`;

interface Success {
  lease: Lease;
  slot: number;
  pending: PendingProgress;
  state: unknown;
  limited: boolean;
  appLimit: number;
}

/**
 * The final UPDATE of many successful attempts at once (each fenced by its own lease): executions that
 * end while an earlier final write is on its way share the next one, so a busy worker commits once per
 * group, not once per execution. Each caller's promise settles when its row is written.
 */
async function finishSuccesses(db: Database, successes: Success[]): Promise<undefined[]> {
  const rows = successes.map(({ lease, slot, pending, state, limited }) => ({
    id: lease.id,
    slot,
    worker_id: lease.workerId,
    attempt: lease.attempt,
    state: state === undefined ? null : state,
    limited,
    ...pending,
  }));
  const [first] = successes;
  if (!first) return [];
  await queryRows(
    db,
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as i(
            id int, slot int, worker_id text, attempt int, state jsonb, limited boolean, ${pendingInputColumns})),
        ended as (
          update executions e
          set status = (case when e.abort_requested then 'ABORTED' else 'SUCCESS' end)::execution_status,
              error = null, state = i.state, ${progressColumnsFromInput}, ${end}
          from input i
          where ${heldByInput}
          returning e.id),
        freed as (${freeHeldSlots(sql`select i.slot, i.id from input i where i.id in (select id from ended)`)}),
        woken as (${wakeOthers(first.lease.workerId, sql`exists (select 1 from input where limited)`, Math.min(...successes.map((s) => s.appLimit)))}),
        told as (${tellWatchersOf(sql`ended`)})
        select (select count(*) from woken) as woken, (select count(*) from told) as told`,
    { prepared: true },
  );
  return successes.map(() => undefined);
}

const successBatcherFor = batcherPerHandle(
  (db: Database) =>
    new Batcher<Success, undefined>((successes) => finishSuccesses(db, successes), {
      maxItems: 128,
      maxInFlight: 1,
    }),
);

const end = sql`finished_at = clock_timestamp(), updated_at = clock_timestamp(),
  lease_owner = null, lease_expires_at = null`;

function attemptEntry(lease: Lease, error: string, stepName: string | null): string {
  return JSON.stringify([{ attempt: lease.attempt, step: stepName, error, at: new Date().toISOString() }]);
}
