import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";

/**
 * The application-wide limit is held as rows of execution_slots, one per running execution (the claim,
 * migration 0016, takes them and tells each execution its slot). Whatever ends an execution frees its slot in
 * the same statement. Slot rows have no index but their key, so taking and freeing one is a HOT update.
 */

/** A CTE body freeing the slot `slot` if the execution in `ended` (a CTE with an `id` column) holds it. */
export const freeSlotOf = (slot: number | null, ended: SQL) =>
  sql`update execution_slots set execution_id = null, assigned_at = null
      where slot = ${slot ?? 0} and execution_id in (select id from ${ended})`;

/**
 * A CTE body freeing the slots of the executions in `ended`, found by execution (recovery, rare: a scan of
 * the slot rows, skipped when nothing ended).
 */
export const freeSlotsOf = (ended: SQL) =>
  sql`update execution_slots set execution_id = null, assigned_at = null
      where exists (select 1 from ${ended}) and execution_id in (select id from ${ended})`;

/**
 * A parent waiting in ctx.runChild gives its slot to its child (`waiting`); when it goes on, it takes a free
 * slot again if there is one within the limit (if none is free it goes on anyway, as it already started).
 * Returns the slot it holds afterwards (null: none).
 */
export async function slotWhileAwaiting(
  db: Database,
  marked: SQL,
  { id, waiting, appLimit }: { id: number; waiting: boolean; appLimit: number },
): Promise<number | null> {
  const [row] = await queryRows<{ slot: number | null }>(
    db,
    waiting
      ? sql`with ${marked}, freed as (
              update execution_slots set execution_id = null, assigned_at = null
              where execution_id = ${id} and exists (select 1 from marked))
            select null::int as slot`
      : sql`with ${marked}, taken as (
              update execution_slots set execution_id = ${id}, assigned_at = clock_timestamp()
              where exists (select 1 from marked)
                and slot = (select slot from execution_slots
                            where execution_id is null
                              and slot <= coalesce((select max_concurrent from execution_settings
                                                    where scope = 'app' and chain_name = ''), ${appLimit})
                            order by slot limit 1 for update skip locked)
              returning slot)
            select (select slot from taken) as slot`,
  );
  return row?.slot ?? null;
}

/** How often the workers look for leaked slots (the sweep reads every slot row). */
export const SLOT_SWEEP_MS = 60_000;

/**
 * Frees slots whose execution no longer runs (deleted with its user, or ended by a path that could not free
 * it). Only slots taken more than a minute ago: a claim commits in milliseconds, so a younger slot may belong
 * to a claim this statement's snapshot does not see yet.
 */
export async function freeLeakedSlots(db: Database): Promise<void> {
  await db.execute(
    sql`update execution_slots s set execution_id = null, assigned_at = null
        where s.execution_id is not null and s.assigned_at < clock_timestamp() - interval '1 minute'
          and not exists (select 1 from executions e
                          where e.id = s.execution_id and e.status = 'EXECUTING' and not e.awaiting_child)`,
  );
}
