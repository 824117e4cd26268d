import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { EXECUTION_STATUS_CHANNEL } from "@/db/channels";
import { type Executor, intArray } from "@/db/client";

/**
 * A CTE body that announces a status change of the executions in `changed` (a CTE with an `id` column) to
 * the live status streams, only for those somebody watches: one index probe when nobody does.
 */
export const tellWatchersOf = (changed: SQL) =>
  sql`select pg_notify(${EXECUTION_STATUS_CHANNEL}, c.id::text) from ${changed} c
      where exists (select 1 from execution_watchers w where w.execution_id = c.id and w.expires_at > clock_timestamp())`;

/** Announces a change of the executions `ids` (aborts, recovery: rare, so a statement of its own). */
export async function tellWatchers(db: Executor, ids: number[]): Promise<void> {
  if (ids.length === 0) return;
  await db.execute(
    sql`select pg_notify(${EXECUTION_STATUS_CHANNEL}, w.execution_id::text)
        from (select distinct execution_id from execution_watchers
              where execution_id = any(${intArray(ids)}) and expires_at > clock_timestamp()) w`,
  );
}
