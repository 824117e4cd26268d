import "server-only";
import { asc, eq, sql } from "drizzle-orm";
import { type Executor, getDb } from "@/db/client";
import { type Department, departmentProcessing, departments, users } from "@/db/schema";
import {
  activeExecutionStatuses,
  executionIsActive,
  listExecutionRuns,
  summarizeExecutionRuns,
} from "@/lib/chains";

/** Chain names (the engine allows no spaces): shown as "Save and Process" / "Process Department in Background". */
export const SAVE_AND_PROCESS_CHAIN = "departments.save-and-process";
export const PROCESS_IN_BACKGROUND_CHAIN = "departments.process-in-background";

/**
 * A registration counts while its execution is waiting or running, or — before its execution id is
 * written, a matter of milliseconds — for a minute at most. Anything else is left over from an execution
 * that ended without unregistering (its worker died) and counts as free.
 */
const activeRegistration = sql`(
  (${departmentProcessing.executionId} is null
     and ${departmentProcessing.registeredAt} > clock_timestamp() - interval '1 minute')
  or ${executionIsActive(departmentProcessing.executionId)})`;

export async function listDepartments(db: Executor = getDb()): Promise<Department[]> {
  return db.select().from(departments).orderBy(asc(departments.deptno));
}

export async function getDepartment({ deptno }: { deptno: number }, db: Executor = getDb()) {
  const [row] = await db.select().from(departments).where(eq(departments.deptno, deptno));
  return row ?? null;
}

export async function updateDepartment(
  { deptno, dname, loc }: { deptno: number; dname: string; loc: string },
  db: Executor = getDb(),
): Promise<boolean> {
  const rows = await db
    .update(departments)
    .set({ dname, loc })
    .where(eq(departments.deptno, deptno))
    .returning({ deptno: departments.deptno });
  return rows.length > 0;
}

export type DeleteDepartmentOutcome = "deleted" | "not_found" | "processing";

export async function deleteDepartment(
  { deptno }: { deptno: number },
  db: Executor = getDb(),
): Promise<DeleteDepartmentOutcome> {
  return db.transaction(async (tx) => {
    if (await getProcessingUser({ deptno }, tx)) return "processing";
    const rows = await tx
      .delete(departments)
      .where(eq(departments.deptno, deptno))
      .returning({ deptno: departments.deptno });
    return rows.length > 0 ? "deleted" : "not_found";
  });
}

/** The user currently processing the department, or null when it is free. */
export async function getProcessingUser(
  { deptno }: { deptno: number },
  db: Executor = getDb(),
): Promise<string | null> {
  const [row] = await db
    .select({ username: users.username })
    .from(departmentProcessing)
    .innerJoin(users, eq(users.id, departmentProcessing.userId))
    .where(sql`${departmentProcessing.deptno} = ${deptno} and ${activeRegistration}`);
  return row?.username ?? null;
}

/** Departments being processed now, with who is processing them. */
export async function listProcessingDepartments(
  db: Executor = getDb(),
): Promise<{ deptno: number; username: string }[]> {
  return db
    .select({ deptno: departmentProcessing.deptno, username: users.username })
    .from(departmentProcessing)
    .innerJoin(users, eq(users.id, departmentProcessing.userId))
    .where(activeRegistration);
}

/**
 * Registers (user, department). The department is the primary key, so of two users racing exactly one
 * wins; a left-over registration is cleared first. Answers who holds the department when it is not us.
 */
export async function registerProcessing(
  { deptno, userId }: { deptno: number; userId: number },
  db: Executor = getDb(),
): Promise<{ registered: true } | { registered: false; holder: string }> {
  await db
    .delete(departmentProcessing)
    .where(sql`${departmentProcessing.deptno} = ${deptno} and not ${activeRegistration}`);
  const inserted = await db
    .insert(departmentProcessing)
    .values({ deptno, userId })
    .onConflictDoNothing({ target: departmentProcessing.deptno })
    .returning({ deptno: departmentProcessing.deptno });
  if (inserted.length > 0) return { registered: true };
  return { registered: false, holder: (await getProcessingUser({ deptno }, db)) ?? "another user" };
}

/** Adds the execution id to the user's registration; false when there is no such registration. */
export async function attachExecution(
  { deptno, userId, executionId }: { deptno: number; userId: number; executionId: number },
  db: Executor = getDb(),
): Promise<boolean> {
  const rows = await db
    .update(departmentProcessing)
    .set({ executionId })
    .where(
      sql`${departmentProcessing.deptno} = ${deptno} and ${departmentProcessing.userId} = ${userId}
        and (${departmentProcessing.executionId} is null or ${departmentProcessing.executionId} = ${executionId})`,
    )
    .returning({ deptno: departmentProcessing.deptno });
  return rows.length > 0;
}

/** Removes a registration: the user's own (before its execution started) or the execution's. */
export async function unregisterProcessing(
  { deptno, userId, executionId }: { deptno: number; userId: number; executionId?: number | null },
  db: Executor = getDb(),
): Promise<void> {
  await db.delete(departmentProcessing).where(
    executionId
      ? sql`${departmentProcessing.deptno} = ${deptno} and ${departmentProcessing.executionId} = ${executionId}`
      : sql`${departmentProcessing.deptno} = ${deptno} and ${departmentProcessing.userId} = ${userId}
            and ${departmentProcessing.executionId} is null`,
  );
}

export interface ProcessingStatusRow {
  executionId: number;
  username: string;
  deptno: number;
  status: string;
  sofar: number | null;
  totalwork: number | null;
  submittedAt: string;
  startedAt: string | null;
}

/** Executions of "Process Department in Background" waiting or running, all users'. */
export async function listProcessingStatus(db: Executor = getDb()): Promise<ProcessingStatusRow[]> {
  const runs = await listExecutionRuns<{ deptno: number }>(
    { chainName: PROCESS_IN_BACKGROUND_CHAIN, statuses: activeExecutionStatuses },
    db,
  );
  return runs.map((run) => ({
    executionId: run.executionId,
    username: run.username,
    deptno: run.input.deptno,
    status: run.status,
    sofar: run.sofar,
    totalwork: run.totalwork,
    submittedAt: run.createdAt,
    startedAt: run.startedAt,
  }));
}

export interface ProcessingHistory {
  runs: number;
  averageRunningSeconds: number | null;
  averageWaitSeconds: number | null;
  recent: {
    executionId: number;
    username: string;
    deptno: number;
    waitSeconds: number;
    runningSeconds: number;
  }[];
}

/** Averages over the successful runs of "Process Department in Background", and the last 20 of them. */
export async function getProcessingHistory(db: Executor = getDb()): Promise<ProcessingHistory> {
  const chainName = PROCESS_IN_BACKGROUND_CHAIN;
  const [summary, runs] = await Promise.all([
    summarizeExecutionRuns({ chainName }, db),
    listExecutionRuns<{ deptno: number }>(
      { chainName, statuses: ["SUCCESS"], latestFinished: true, limit: 20 },
      db,
    ),
  ]);
  const seconds = (from: string | null, to: string | null) =>
    from && to ? (new Date(to).getTime() - new Date(from).getTime()) / 1000 : 0;
  return {
    ...summary,
    recent: runs.reverse().map((run) => ({
      executionId: run.executionId,
      username: run.username,
      deptno: run.input.deptno,
      waitSeconds: seconds(run.createdAt, run.startedAt),
      runningSeconds: seconds(run.startedAt, run.finishedAt),
    })),
  };
}
