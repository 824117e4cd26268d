import type { ExecutionStatus } from "@/db/schema/executions";

/** What the monitoring pages and /api/executions show of an execution (no input, state or lease). */
export interface ExecutionView {
  id: number;
  chainName: string;
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
  abortRequested: boolean;
  createdAt: string;
  startedAt: string | null;
  updatedAt: string;
  finishedAt: string | null;
}

export const FINAL_STATUSES: readonly ExecutionStatus[] = ["SUCCESS", "FAILED", "ABORTED"];

/** Progress in percent, or null when the execution reports no total. */
export function progressPercent(view: Pick<ExecutionView, "sofar" | "totalwork" | "status">): number | null {
  if (view.status === "SUCCESS") return 100;
  if (!view.totalwork || view.sofar === null) return null;
  return Math.max(0, Math.min(100, Math.round((view.sofar / view.totalwork) * 100)));
}
