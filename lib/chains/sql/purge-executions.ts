import "server-only";
import { and, inArray, lt, sql } from "drizzle-orm";
import { type Executor, getDb } from "@/db/client";
import { executions } from "@/db/schema";
import { finalExecutionStatuses } from "../statuses";

/** Deletes finished executions older than `olderThanMs`, with their files; returns how many. */
export async function purgeExecutions(
  { olderThanMs }: { olderThanMs: number },
  db: Executor = getDb(),
): Promise<number> {
  const rows = await db
    .delete(executions)
    .where(
      and(
        inArray(executions.status, [...finalExecutionStatuses]),
        lt(executions.finishedAt, sql`clock_timestamp() - make_interval(secs => ${olderThanMs / 1000})`),
      ),
    )
    .returning({ id: executions.id });
  return rows.length;
}
