import "server-only";

export { EXECUTION_ABORT_CHANNEL, EXECUTION_STATUS_CHANNEL, EXECUTIONS_CHANNEL } from "@/db/channels";
// The engine's public API: demos, pages and lib/runtime import only from here (biome.json enforces it);
// client components use the client-safe "@/lib/chains/view" and "@/lib/chains/statuses".
export { type BackgroundOptions, runInBackground, type UploadedFile } from "./background";
export { retryableWaitChain, type WaitInput, waitChain } from "./builtin";
export { type ExecutionJob, executionsConsumer, RETENTION_MS, WORKER_STOPPED } from "./consumer";
export {
  type Chain,
  type ChainUser,
  type Condition,
  defineChain,
  getChain,
  registeredChainNames,
  type SerializeMode,
  type Step,
  type StepContext,
  SYSTEM_USER,
} from "./define";
export {
  ChainAbortedError,
  ChainBusyError,
  ChainInputError,
  ChildExecutionError,
  ExecutionLimitError,
  errorMessage,
} from "./errors";
export { watchExecution } from "./live";
export { purgeChain, purgeSchedule } from "./purge";
export {
  abortAllExecutions,
  abortExecution,
  getConcurrencyUsage,
  getExecution,
  listExecutions,
  type RetryOutcome,
  retryExecution,
  type Viewer,
} from "./queries";
export { type RetryPolicy, retryDelayMs } from "./retry";
export { type ForegroundOptions, runChain, startChain } from "./run";
export { type ExecutionRun, executionIsActive, listExecutionRuns, summarizeExecutionRuns } from "./runs";
export { defineSchedule, registeredSchedules, type Schedule, type ScheduleOptions } from "./schedule";
export { listSchedules, type ScheduleView } from "./schedules-view";
export {
  type ExecutionLimits,
  getExecutionLimits,
  type LimitChanges,
  type LimitSetting,
  MAX_LIMIT_SETTING,
  setExecutionLimits,
} from "./settings";
export { sleep } from "./sleep";
export { purgeExecutions } from "./sql/purge-executions";
export * from "./statuses";
export type { AttemptRecord, ExecutionView } from "./view";
