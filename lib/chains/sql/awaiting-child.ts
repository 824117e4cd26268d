import "server-only";
import { sql } from "drizzle-orm";
import type { Database } from "@/db/client";
import { heldBy, type Lease } from "./held";

/**
 * A running execution waits for a child (ctx.runChild): while `waiting`, no limit counts it (application,
 * user, chain, serialize), so its child can take the slot; fenced by the lease like every write.
 */
export async function markAwaitingChild(db: Database, lease: Lease, waiting: boolean): Promise<void> {
  await db.execute(sql`update executions set awaiting_child = ${waiting} where ${heldBy(lease)}`);
}
