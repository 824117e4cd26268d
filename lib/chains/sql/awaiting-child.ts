import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { slotWhileAwaiting } from "./execution-slots";
import { heldBy, type Lease } from "./held";

/**
 * A running execution waits for a child (ctx.runChild): while `waiting`, no limit counts it (application,
 * user, chain, serialize) and it gives up its slot, so its child can take it; fenced by the lease like
 * every write. `appLimit`: the application-wide limit, for taking a slot again afterwards. Returns the slot
 * the execution holds afterwards (null: none).
 */
export function markAwaitingChild(
  db: Database,
  lease: Lease,
  waiting: boolean,
  appLimit: number,
): Promise<number | null> {
  return slotWhileAwaiting(
    db,
    sql`marked as (update executions set awaiting_child = ${waiting} where ${heldBy(lease)} returning id)`,
    { id: lease.id, waiting, appLimit },
  );
}
