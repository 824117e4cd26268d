import "server-only";
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "@/db/client";

/**
 * The application-wide limit is held as rows of execution_slots, one per running execution (the claim,
 * migration 0016, takes them and tells each execution its slot). Whatever ends an execution frees its slot in
 * the same statement. Slot rows have no index but their key, so taking and freeing one is a HOT update.
 */

/**
 * A CTE body freeing the slots that `held` names: a query of (slot, execution id) pairs, each freed only if
 * that execution still holds it.
 */
export const freeHeldSlots = (held: SQL) =>
  sql`update execution_slots s set execution_id = null, assigned_at = null
      from (${held}) h(slot, id) where s.slot = h.slot and s.execution_id = h.id`;

/**
 * A CTE body freeing the slots of the executions in `ended`, found by execution (recovery, rare: a scan of
 * the slot rows, skipped when nothing ended).
 */
export const freeSlotsOf = (ended: SQL) =>
  sql`update execution_slots set execution_id = null, assigned_at = null
      where exists (select 1 from ${ended}) and execution_id in (select id from ${ended})`;

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
