import "server-only";
import { and, count, desc, eq, inArray, isNull, sql } from "drizzle-orm";
import { type Executor, getDb, intArray, queryRows } from "@/db/client";
import { dataLoadRejects, dataLoads, sales } from "@/db/schema";
import { type ExecutionStatus, type ExecutionView, isFinalStatus, listExecutions } from "@/lib/chains";
import type { SalesRow } from "./rules";

export const LOAD_DATA_CHAIN = "data-load.load-data-background";

export async function createDataLoad(
  { userId, fileName, fileSize }: { userId: number; fileName: string; fileSize: number },
  db: Executor = getDb(),
): Promise<number> {
  const [row] = await db
    .insert(dataLoads)
    .values({ userId, fileName: fileName.slice(0, 255), fileSize })
    .returning({ id: dataLoads.id });
  if (!row) throw new Error("insert returned no row");
  return row.id;
}

export async function setDataLoadExecution(
  { loadId, executionId }: { loadId: number; executionId: number },
  db: Executor = getDb(),
): Promise<void> {
  await db.update(dataLoads).set({ executionId }).where(eq(dataLoads.id, loadId));
}

type Reject = { line: number; raw: string; reason: string };

/** Text that can be stored as-is: control characters (a NUL fails in PostgreSQL) shown as escapes. */
const printable = (value: string) =>
  Array.from(value, (char) => {
    const code = char.charCodeAt(0);
    // Tabs stay; other controls become \xNN (a NUL would fail in PostgreSQL).
    return (code < 0x20 && char !== "\t") || code === 0x7f
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : char;
  }).join("");

/** The reason a row the database refused is listed with; the driver's own text goes to the log only. */
export const ROW_NOT_STORED = "This row could not be stored (a value the database refused).";

async function insertBatch(
  { loadId, rows, rejects }: { loadId: number; rows: SalesRow[]; rejects: Reject[] },
  db: Executor,
): Promise<void> {
  await db.transaction(async (tx) => {
    if (rows.length > 0) await tx.insert(sales).values(rows.map((row) => ({ ...row, loadId })));
    if (rejects.length > 0) {
      await tx.insert(dataLoadRejects).values(
        rejects.map((reject) => ({
          line: reject.line,
          raw: printable(reject.raw),
          reason: printable(reject.reason).slice(0, 1000),
          loadId,
        })),
      );
    }
    await tx
      .update(dataLoads)
      .set({
        rowsLoaded: sql`${dataLoads.rowsLoaded} + ${rows.length}`,
        rowsRejected: sql`${dataLoads.rowsRejected} + ${rejects.length}`,
      })
      .where(eq(dataLoads.id, loadId));
  });
}

/**
 * Stores one batch: loaded rows, rejected rows with reasons, and the running counts — atomically. When
 * the database refuses the batch, each row is tried alone: the ones it still refuses are listed as
 * rejected with a plain reason and the load goes on. A lost connection fails every row alike and is
 * thrown (the load then fails as a whole).
 */
export async function storeBatch(
  {
    loadId,
    rows,
    rejects,
    lines = [],
  }: { loadId: number; rows: SalesRow[]; rejects: Reject[]; lines?: { line: number; raw: string }[] },
  db: Executor = getDb(),
): Promise<void> {
  try {
    await insertBatch({ loadId, rows, rejects }, db);
    return;
  } catch (error) {
    if (rows.length <= 1 && rejects.length === 0) throw error;
    console.error(`[data-load] load ${loadId}: a batch was refused; storing its rows one by one`, error);
  }
  const refused: Reject[] = [...rejects];
  let stored = 0;
  for (const [index, row] of rows.entries()) {
    try {
      await insertBatch({ loadId, rows: [row], rejects: [] }, db);
      stored += 1;
    } catch (error) {
      console.error(`[data-load] load ${loadId}: row refused`, error);
      const at = lines[index] ?? { line: 0, raw: "" };
      refused.push({ ...at, reason: ROW_NOT_STORED });
    }
  }
  // Every row refused alone too: the database itself is failing, not the rows.
  if (stored === 0 && rows.length > 1) throw new Error(`load ${loadId}: the database refused every row`);
  if (refused.length > 0) await insertBatch({ loadId, rows: [], rejects: refused }, db);
}

/** Removes what a load stored so far: before a (re)start, and when it fails or is aborted. */
export async function removeLoadedRows(
  { loadId }: { loadId: number },
  db: Executor = getDb(),
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.delete(sales).where(eq(sales.loadId, loadId));
    await tx.delete(dataLoadRejects).where(eq(dataLoadRejects.loadId, loadId));
    await tx.update(dataLoads).set({ rowsLoaded: 0, rowsRejected: 0 }).where(eq(dataLoads.id, loadId));
  });
}

/** What users read when a load's worker stopped before it finished. */
export const INTERRUPTED_LOAD =
  "The load was interrupted before it finished; nothing of it was kept. Upload the file again.";

/**
 * Loads whose execution ended without them finishing (a killed worker, a lost connection): their rows
 * are removed and they are marked failed. Safe to run at any time; runs before each load.
 */
export async function sweepAbandonedLoads(db: Executor = getDb()): Promise<number> {
  const open = await db
    .select({ id: dataLoads.id, executionId: dataLoads.executionId, createdAt: dataLoads.createdAt })
    .from(dataLoads)
    .where(isNull(dataLoads.finishedAt));
  if (open.length === 0) return 0;
  // The engine's tables stay the engine's: the executions' states come through lib/chains.
  const ids = open.flatMap((load) => (load.executionId === null ? [] : [load.executionId]));
  const statusOf = new Map((await listExecutions({ ids }, db)).map((view) => [view.id, view.status]));
  const minuteAgo = Date.now() - 60_000;
  const abandoned = open.filter((load) => {
    const status = load.executionId === null ? undefined : statusOf.get(load.executionId);
    // No execution (never enqueued, or purged) after a minute, or one that ended without finishing the load.
    return status === undefined ? new Date(load.createdAt).getTime() < minuteAgo : isFinalStatus(status);
  });
  for (const { id } of abandoned) {
    await removeLoadedRows({ loadId: id }, db);
    await db
      .update(dataLoads)
      .set({ finishedAt: sql`clock_timestamp()`, error: INTERRUPTED_LOAD })
      .where(and(eq(dataLoads.id, id), isNull(dataLoads.finishedAt)));
  }
  return abandoned.length;
}

export async function finishDataLoad(
  { loadId, error }: { loadId: number; error?: string | null },
  db: Executor = getDb(),
) {
  const [row] = await db
    .update(dataLoads)
    .set({ finishedAt: sql`clock_timestamp()`, error: error?.slice(0, 1000) ?? null })
    .where(eq(dataLoads.id, loadId))
    .returning({ rowsLoaded: dataLoads.rowsLoaded, rowsRejected: dataLoads.rowsRejected });
  return row ?? { rowsLoaded: 0, rowsRejected: 0 };
}

export interface DataLoadView {
  id: number;
  executionId: number | null;
  /** The load's execution as the live status component shows it (null once purged). */
  execution: ExecutionView | null;
  fileName: string;
  fileSize: number;
  status: ExecutionStatus;
  statusMessage: string | null;
  rowsProcessed: number;
  rowsLoaded: number;
  rowsRejected: number;
  error: string | null;
  createdAt: string;
  finishedAt: string | null;
  rejects: { id: number; line: number; reason: string; raw: string }[];
}

const REJECTS_SHOWN = 100;

/** The user's recent loads with their execution's live status, and the first rejected rows of each. */
export async function listDataLoads(
  { userId, limit = 5 }: { userId: number; limit?: number },
  db: Executor = getDb(),
): Promise<DataLoadView[]> {
  const rows = await queryRows<Omit<DataLoadView, "rejects" | "execution" | "status" | "statusMessage">>(
    db,
    sql`select l.id, l.execution_id as "executionId", l.file_name as "fileName", l.file_size as "fileSize",
          l.rows_loaded + l.rows_rejected as "rowsProcessed", l.rows_loaded as "rowsLoaded",
          l.rows_rejected as "rowsRejected", l.error, l.created_at as "createdAt", l.finished_at as "finishedAt"
        from data_loads l
        where l.user_id = ${userId} order by l.id desc limit ${limit}`,
  );
  // The engine's tables stay the engine's: execution status comes through lib/chains.
  const executionIds = rows.flatMap((row) => (row.executionId === null ? [] : [row.executionId]));
  const byId = new Map((await listExecutions({ ids: executionIds }, db)).map((view) => [view.id, view]));
  const loads = rows.map((row) => {
    const execution = row.executionId === null ? null : (byId.get(row.executionId) ?? null);
    const fallback = row.finishedAt === null ? "ENQUEUED" : row.error === null ? "SUCCESS" : "FAILED";
    return {
      ...row,
      execution,
      status: execution?.status ?? fallback,
      statusMessage: execution?.statusMessage ?? null,
      error: row.error ?? execution?.error ?? null,
      finishedAt: row.finishedAt ?? execution?.finishedAt ?? null,
    };
  });
  const ids = loads.filter((load) => load.rowsRejected > 0).map((load) => load.id);
  const rejects =
    ids.length === 0
      ? []
      : await queryRows<{ id: number; loadId: number; line: number; reason: string; raw: string }>(
          db,
          sql`select id, load_id as "loadId", line, reason, raw from (
                select r.*, row_number() over (partition by load_id order by line, id) as n
                from data_load_rejects r where load_id = any(${intArray(ids)})) ranked
              where n <= ${REJECTS_SHOWN} order by load_id, line`,
        );
  return loads.map((load) => ({
    ...load,
    createdAt: new Date(load.createdAt).toISOString(),
    finishedAt: load.finishedAt ? new Date(load.finishedAt).toISOString() : null,
    rejects: rejects
      .filter((reject) => reject.loadId === load.id)
      .map(({ id, line, reason, raw }) => ({ id, line, reason, raw })),
  }));
}

export async function listRejects({ loadId }: { loadId: number }, db: Executor = getDb()) {
  return db
    .select({ line: dataLoadRejects.line, reason: dataLoadRejects.reason, raw: dataLoadRejects.raw })
    .from(dataLoadRejects)
    .where(eq(dataLoadRejects.loadId, loadId))
    .orderBy(dataLoadRejects.line);
}

export const SALES_PAGE_SIZE = 15;

/** Only rows of loads that finished without error are data: a load is all-or-nothing. */
const ofCompletedLoads = inArray(
  sales.loadId,
  sql`(select id from data_loads where finished_at is not null and error is null)`,
);

export async function getSalesPage({ page }: { page: number }, db: Executor = getDb()) {
  const [total] = await db.select({ value: count() }).from(sales).where(ofCompletedLoads);
  const rows = total?.value ?? 0;
  const pages = Math.max(1, Math.ceil(rows / SALES_PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  const data = await db
    .select()
    .from(sales)
    .where(ofCompletedLoads)
    .orderBy(desc(sales.id))
    .limit(SALES_PAGE_SIZE)
    .offset((current - 1) * SALES_PAGE_SIZE);
  return { rows: data, total: rows, page: current, pages };
}

/**
 * "Clear data": removes the sales rows of the user's own loads, or everybody's for an administrator.
 * The loads' history (counts, rejected rows) stays.
 */
export async function clearSales(
  { userId }: { userId: number | "all" },
  db: Executor = getDb(),
): Promise<number> {
  const [row] = await queryRows<{ n: number }>(
    db,
    userId === "all"
      ? sql`with gone as (delete from sales returning 1) select count(*)::int as n from gone`
      : sql`with gone as (delete from sales where load_id in (select id from data_loads where user_id = ${userId})
              returning 1) select count(*)::int as n from gone`,
  );
  return row?.n ?? 0;
}

export async function countSalesOfLoad({ loadId }: { loadId: number }, db: Executor = getDb()) {
  return db.$count(sales, inArray(sales.loadId, [loadId]));
}
