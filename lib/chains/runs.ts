import "server-only";
import { type SQL, sql } from "drizzle-orm";
import { type Executor, getDb, queryRows } from "@/db/client";
import { activeExecutionStatuses, type ExecutionStatus } from "./statuses";

const statusList = (statuses: readonly ExecutionStatus[]) =>
  sql.raw(statuses.map((s) => `'${s}'`).join(", "));

/**
 * A condition for a demo's own query: the execution whose id is `id` (a column or expression) is still
 * waiting or running. The engine's table stays behind this function.
 */
export function executionIsActive(id: SQL | unknown): SQL {
  return sql`exists (select 1 from executions e where e.id = ${id}
                     and e.status in (${statusList(activeExecutionStatuses)}))`;
}

/** One execution of a chain with its input and times, for a demo's status and history pages. */
export interface ExecutionRun<I = unknown> {
  executionId: number;
  username: string;
  input: I;
  status: ExecutionStatus;
  sofar: number | null;
  totalwork: number | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const iso = (value: string | Date | null) => (value === null ? null : new Date(value).toISOString());

/** Executions of `chainName` in `statuses`: in id order, or the last finished first (`latestFinished`). */
export async function listExecutionRuns<I = unknown>(
  {
    chainName,
    statuses,
    latestFinished = false,
    limit = 200,
  }: { chainName: string; statuses: readonly ExecutionStatus[]; latestFinished?: boolean; limit?: number },
  db: Executor = getDb(),
): Promise<ExecutionRun<I>[]> {
  const rows = await queryRows<ExecutionRun<I>>(
    db,
    sql`select e.id as "executionId", coalesce(u.username, 'system') as username, e.input, e.status::text as status, e.sofar, e.totalwork,
          e.created_at as "createdAt", e.started_at as "startedAt", e.finished_at as "finishedAt"
        from executions e left join users u on u.id = e.user_id
        where e.chain_name = ${chainName} and e.status in (${statusList(statuses)})
        order by ${latestFinished ? sql`e.finished_at desc nulls last` : sql`e.id`}
        limit ${Math.max(1, Math.min(limit, 1000))}`,
  );
  return rows.map((row) => ({
    ...row,
    createdAt: iso(row.createdAt) ?? "",
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  }));
}

/** Averages over the successful executions of `chainName`: seconds running, and waiting to start. */
export async function summarizeExecutionRuns(
  { chainName }: { chainName: string },
  db: Executor = getDb(),
): Promise<{ runs: number; averageRunningSeconds: number | null; averageWaitSeconds: number | null }> {
  const [row] = await queryRows<{ runs: number; running: number | null; wait: number | null }>(
    db,
    sql`select count(*)::int as runs,
          avg(extract(epoch from e.finished_at - e.started_at))::float8 as running,
          avg(extract(epoch from e.started_at - e.created_at))::float8 as wait
        from executions e
        where e.chain_name = ${chainName} and e.status = 'SUCCESS'
          and e.started_at is not null and e.finished_at is not null`,
  );
  return {
    runs: row?.runs ?? 0,
    averageRunningSeconds: row?.running ?? null,
    averageWaitSeconds: row?.wait ?? null,
  };
}
