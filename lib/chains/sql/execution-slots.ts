import "server-only";
import { type SQL, sql } from "drizzle-orm";
import type { Database } from "@/db/client";

/**
 * The application-wide limit is held as rows of execution_slots, one per running execution (the claim,
 * migration 0017, takes them). Whatever ends an execution frees its slot in the same statement: a CTE body
 * over `ended` (a CTE with an `id` column).
 */
export const freeSlotsOf = (ended: SQL) =>
  sql`update execution_slots set execution_id = null, assigned_at = null
      where execution_id in (select id from ${ended})`;

/**
 * A parent waiting in ctx.runChild gives its slot to its child (true); when it goes on (false) it takes a free
 * slot again if there is one within the limit — if none is free it goes on anyway, as it already started.
 */
export function slotWhileAwaiting(marked: SQL, waiting: boolean, appLimit: number): SQL {
  return waiting
    ? sql`update execution_slots set execution_id = null, assigned_at = null
          where execution_id in (select id from ${marked})`
    : sql`update execution_slots set execution_id = (select id from ${marked}), assigned_at = clock_timestamp()
          where exists (select 1 from ${marked})
            and slot = (select slot from execution_slots
                        where execution_id is null
                          and slot <= coalesce((select max_concurrent from execution_settings
                                                where scope = 'app' and chain_name = ''), ${appLimit})
                        order by slot limit 1 for update skip locked)`;
}

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
