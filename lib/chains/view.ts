import { type ExecutionStatus, finalExecutionStatuses } from "./statuses";

/** One failed attempt of an execution: kept for the execution pages and the dead-letter view. */
export interface AttemptRecord {
  attempt: number;
  step: string | null;
  error: string;
  at: string;
}

/** What the monitoring pages and /api/executions show of an execution (no input, state or lease). */
export interface ExecutionView {
  id: number;
  chainName: string;
  /** The human title ("Process department 20"); the code id stays in chainName. */
  title: string;
  username: string;
  parentId: number | null;
  status: ExecutionStatus;
  stepName: string | null;
  stepSequence: number | null;
  statusMessage: string | null;
  sofar: number | null;
  totalwork: number | null;
  error: string | null;
  attempt: number;
  maxAttempts: number;
  /** Errors of earlier (and the last) failed attempts, oldest first. */
  attemptLog: AttemptRecord[];
  /** SCHEDULED: when it runs. */
  runAt: string | null;
  abortRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
}

export const FINAL_STATUSES: readonly ExecutionStatus[] = finalExecutionStatuses;

/** Progress in percent, or null when the execution reports no total. */
export function progressPercent(view: Pick<ExecutionView, "sofar" | "totalwork" | "status">): number | null {
  if (view.status === "SUCCESS") return 100;
  if (!view.totalwork || view.sofar === null) return null;
  return Math.max(0, Math.min(100, Math.round((view.sofar / view.totalwork) * 100)));
}
