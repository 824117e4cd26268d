import "server-only";
import { and, desc, eq, inArray, or, type SQL, sql } from "drizzle-orm";
import { EXECUTION_ABORT_CHANNEL, EXECUTIONS_CHANNEL } from "@/db/channels";
import { type Executor, getDb, intArray, notify } from "@/db/client";
import { executions, users } from "@/db/schema";
import { effectiveAppLimit } from "./settings";
import { tellWatchers } from "./sql/tell-watchers";
import { activeExecutionStatuses, type ExecutionStatus } from "./statuses";
import type { AttemptRecord, ExecutionView } from "./view";

const iso = (value: string | Date | null): string | null =>
  value === null ? null : new Date(value).toISOString();

async function selectViews(where: SQL | undefined, limit: number, db: Executor): Promise<ExecutionView[]> {
  const rows = await db
    .select({
      id: executions.id,
      chainName: executions.chainName,
      title: executions.title,
      userId: executions.userId,
      username: users.username,
      parentId: executions.parentId,
      status: executions.status,
      stepName: executions.stepName,
      stepSequence: executions.stepSequence,
      statusMessage: executions.statusMessage,
      sofar: executions.sofar,
      totalwork: executions.totalwork,
      error: executions.error,
      attempt: executions.attempt,
      maxAttempts: executions.maxAttempts,
      attemptLog: executions.attemptLog,
      runAt: executions.runAt,
      abortRequested: executions.abortRequested,
      createdAt: executions.createdAt,
      startedAt: executions.startedAt,
      updatedAt: executions.updatedAt,
      finishedAt: executions.finishedAt,
    })
    .from(executions)
    .leftJoin(users, eq(users.id, executions.userId))
    .where(where)
    .orderBy(desc(executions.id))
    .limit(Math.max(1, Math.min(limit, 1000)));
  return rows.map(({ userId: _owner, ...row }) => ({
    ...row,
    username: row.username ?? "system",
    attemptLog: (row.attemptLog ?? []) as AttemptRecord[],
    runAt: iso(row.runAt),
    createdAt: iso(row.createdAt) ?? "",
    startedAt: iso(row.startedAt),
    updatedAt: iso(row.updatedAt) ?? "",
    finishedAt: iso(row.finishedAt),
  }));
}

/**
 * Executions for the monitoring pages and the demos' own lists, newest first: one user's (userId) or
 * everybody's, optionally of one chain, in some statuses, or with the given ids. Callers authorise: this
 * answers what it is asked.
 */
export function listExecutions(
  {
    userId,
    status,
    statuses,
    chainName,
    ids,
    limit = 200,
  }: {
    userId?: number;
    status?: ExecutionStatus;
    statuses?: readonly ExecutionStatus[];
    chainName?: string;
    ids?: readonly number[];
    limit?: number;
  },
  db: Executor = getDb(),
): Promise<ExecutionView[]> {
  const filters: SQL[] = [];
  if (userId !== undefined) filters.push(eq(executions.userId, userId));
  if (status) filters.push(eq(executions.status, status));
  if (statuses) filters.push(inArray(executions.status, [...statuses]));
  if (chainName) filters.push(eq(executions.chainName, chainName));
  if (ids) {
    if (ids.length === 0) return Promise.resolve([]);
    filters.push(inArray(executions.id, [...ids]));
  }
  return selectViews(filters.length > 0 ? and(...filters) : undefined, ids ? ids.length : limit, db);
}

/**
 * One execution as its owner or an administrator sees it; null for a missing id and for somebody else's
 * execution alike, so nobody learns which ids exist.
 */
export async function getExecution(
  id: number,
  viewer: Viewer,
  db: Executor = getDb(),
): Promise<ExecutionView | null> {
  const owner = viewer.mayAbortAny ? undefined : eq(executions.userId, viewer.userId);
  const [found] = await selectViews(and(eq(executions.id, id), owner), 1, db);
  return found ?? null;
}

export interface ConcurrencyUsage {
  /** Running executions allowed at once in the whole application: the runtime setting, else the env value. */
  limit: number;
  running: number;
  queued: number;
}

export async function getConcurrencyUsage(db: Executor = getDb()): Promise<ConcurrencyUsage> {
  const [running, queued, limit] = await Promise.all([
    db.$count(executions, and(eq(executions.status, "EXECUTING"), eq(executions.awaitingChild, false))),
    db.$count(executions, eq(executions.status, "ENQUEUED")),
    effectiveAppLimit(db),
  ]);
  return { limit, running, queued };
}

export type AbortOutcome = "aborted" | "abort_requested" | "not_found" | "finished";

/** Who asks: the engine knows no roles, the caller says whether this person may abort anyone's work. */
export interface Viewer {
  userId: number;
  /** Administrators: may see and abort every execution. */
  mayAbortAny: boolean;
}

/** Tells the worker processes holding the running ones among `rows` to abort them now (E11). */
async function announceAborts(db: Executor, rows: { id: number; status: string }[]): Promise<void> {
  const running = rows.filter((row) => row.status === "EXECUTING").map((row) => row.id);
  if (running.length === 0) return;
  await db.execute(
    sql`select pg_notify(${EXECUTION_ABORT_CHANNEL}, id::text) from unnest(${intArray(running)}) as id`,
  );
}

/** Waiting executions end ABORTED at once; running ones are asked to stop (their worker ends them). */
const abortColumns = () => ({
  abortRequested: true,
  status: sql`(case when ${executions.status} = 'EXECUTING' then 'EXECUTING' else 'ABORTED' end)::execution_status`,
  finishedAt: sql`case when ${executions.status} = 'EXECUTING' then null else clock_timestamp() end`,
  leaseOwner: sql`case when ${executions.status} = 'EXECUTING' then ${executions.leaseOwner} else null end`,
  updatedAt: sql`clock_timestamp()`,
});

/**
 * Aborts an execution (and its child executions): waiting ones end ABORTED at once, running ones are
 * asked to stop and end ABORTED when their worker notices. Users may abort only their own executions; for
 * anyone else's the answer is "not_found", so ids of others' executions are not confirmed.
 */
export async function abortExecution(
  { id, by }: { id: number; by: Viewer },
  db: Executor = getDb(),
): Promise<AbortOutcome> {
  const [target] = await db
    .select({ userId: executions.userId, status: executions.status })
    .from(executions)
    .where(eq(executions.id, id));
  if (!target || (target.userId !== by.userId && !by.mayAbortAny)) return "not_found";
  const rows = await db
    .update(executions)
    .set(abortColumns())
    .where(
      and(
        or(eq(executions.id, id), eq(executions.parentId, id)),
        inArray(executions.status, [...activeExecutionStatuses]),
      ),
    )
    .returning({ id: executions.id, status: executions.status });
  await tellWatchers(
    db,
    rows.map((row) => row.id),
  );
  await announceAborts(db, rows);
  const mine = rows.find((row) => row.id === id);
  if (!mine) return "finished";
  if (rows.some((row) => row.status === "ABORTED")) await notify(db, EXECUTIONS_CHANNEL);
  return mine.status === "ABORTED" ? "aborted" : "abort_requested";
}

/**
 * Aborts every waiting and running execution of `chainName`, or of the whole application without it
 * (administrators only: the caller authorises). Waiting ones end ABORTED at once; running ones are asked to
 * stop, as with abortExecution. Returns how many of each.
 */
export async function abortAllExecutions(
  { chainName }: { chainName?: string },
  db: Executor = getDb(),
): Promise<{ aborted: number; abortRequested: number }> {
  const rows = await db
    .update(executions)
    .set(abortColumns())
    .where(
      and(
        chainName === undefined ? undefined : eq(executions.chainName, chainName),
        inArray(executions.status, [...activeExecutionStatuses]),
        eq(executions.abortRequested, false),
      ),
    )
    .returning({ id: executions.id, status: executions.status });
  await tellWatchers(
    db,
    rows.map((row) => row.id),
  );
  await announceAborts(db, rows);
  const aborted = rows.filter((row) => row.status === "ABORTED").length;
  if (aborted > 0) await notify(db, EXECUTIONS_CHANNEL);
  return { aborted, abortRequested: rows.length - aborted };
}

export type RetryOutcome = "retried" | "not_found" | "not_failed" | "busy";

/**
 * Dead letters: runs a FAILED execution again — the same execution (same id, input and user), not a copy.
 * It waits ENQUEUED, resumes at the step that failed with the state saved after the last completed step
 * (durable steps), keeps its attempts history and gets as many attempts again as it had. "busy": a newer
 * execution with the same key is waiting or running. Administrators only: the caller authorises.
 */
export async function retryExecution({ id }: { id: number }, db: Executor = getDb()): Promise<RetryOutcome> {
  const [target] = await db
    .select({ status: executions.status, key: executions.key, chainName: executions.chainName })
    .from(executions)
    .where(eq(executions.id, id));
  if (!target) return "not_found";
  if (target.status !== "FAILED") return "not_failed";
  try {
    const rows = await db
      .update(executions)
      .set({
        status: "ENQUEUED",
        error: null,
        statusMessage: "Queued again by an administrator",
        startedAt: null,
        finishedAt: null,
        runAt: null,
        maxAttempts: sql`${executions.attempt} + ${executions.maxAttempts}`,
        updatedAt: sql`clock_timestamp()`,
      })
      .where(and(eq(executions.id, id), eq(executions.status, "FAILED")))
      .returning({ id: executions.id });
    if (rows.length === 0) return "not_failed";
  } catch (error) {
    // The partial unique index on (chain, key): a newer execution with this key is active.
    if ((error as { code?: string }).code === "23505" || /executions_active_key_idx/.test(String(error))) {
      return "busy";
    }
    throw error;
  }
  await tellWatchers(db, [id]);
  await notify(db, EXECUTIONS_CHANNEL);
  return "retried";
}
