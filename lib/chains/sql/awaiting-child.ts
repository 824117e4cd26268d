import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { heldBy, type Lease } from "./held";

/**
 * A running execution waits for a child (ctx.runChild): while `waiting`, no limit counts it (application,
 * user, chain, serialize) and it gives up its slot, so its child can take it; fenced by the lease like
 * every write. When it goes on, it takes a free slot again if there is one within the application-wide
 * limit (`appLimit` unless an administrator set one) — if none is free it goes on anyway, as it already
 * started. Returns the slot the execution holds afterwards (null: none).
 */
export async function markAwaitingChild(
  db: Database,
  lease: Lease,
  waiting: boolean,
  appLimit: number,
): Promise<number | null> {
  const marked = sql`marked as (update executions set awaiting_child = ${waiting} where ${heldBy(lease)} returning id)`;
  const [row] = await queryRows<{ slot: number | null }>(
    db,
    waiting
      ? sql`with ${marked}, freed as (
              update execution_slots set execution_id = null, assigned_at = null
              where execution_id = ${lease.id} and exists (select 1 from marked))
            select null::int as slot`
      : sql`with ${marked}, taken as (
              update execution_slots set execution_id = ${lease.id}, assigned_at = clock_timestamp()
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
