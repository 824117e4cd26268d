/**
 * Status codes of a background execution, as in APEX_APPL_PAGE_BG_PROC_STATUS, defined once for the
 * engine, its table, its pages and the demos (client-safe: no database import).
 * ENQUEUED: waiting for a slot · SCHEDULED: waiting for its run time (a delayed run or a retry's backoff) ·
 * EXECUTING: a worker runs it · SUCCESS / FAILED / ABORTED: final.
 */
export const executionStatuses = [
  "ENQUEUED",
  "SCHEDULED",
  "EXECUTING",
  "SUCCESS",
  "FAILED",
  "ABORTED",
] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];

/** Statuses an execution can still leave. */
export const activeExecutionStatuses = [
  "ENQUEUED",
  "SCHEDULED",
  "EXECUTING",
] as const satisfies readonly ExecutionStatus[];

/** Statuses an execution never leaves. */
export const finalExecutionStatuses = [
  "SUCCESS",
  "FAILED",
  "ABORTED",
] as const satisfies readonly ExecutionStatus[];

export function isFinalStatus(status: ExecutionStatus): boolean {
  return (finalExecutionStatuses as readonly ExecutionStatus[]).includes(status);
}
