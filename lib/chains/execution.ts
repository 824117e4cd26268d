import "server-only";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { notify } from "@/db/client";
import type { JobContext } from "@/lib/worker/consumer";
import { makeStepContext } from "./context";
import { type Chain, getChain, maxAttemptsOf } from "./define";
import { ChainAbortedError, errorMessage } from "./errors";
import { ProgressReporter } from "./progress";
import { retryDelayMs } from "./retry";
import { snapshotInput } from "./snapshot";
import { markAwaitingChild } from "./sql/awaiting-child";
import type { ExecutionJob } from "./sql/claim-executions";
import { type Ending, finishExecution } from "./sql/finish-execution";
import type { Lease } from "./sql/held";
import { readExecutionFiles } from "./sql/read-execution-files";
import type { PendingProgress } from "./sql/record-progress";
import { executeSteps } from "./steps";

export interface RunSettings {
  /** How often progress is written (each write also reads whether an abort was requested). */
  progressMs: number;
  /** Fallback poll for an abort request when nothing was written for this long (lost notifications). */
  abortPollMs?: number;
  /** Registers what to do when this process hears the execution's abort request; returns the undo. */
  onAbortNotice?: (id: number, handler: () => void) => () => void;
  /** The application-wide limit, to know whether other processes wait for this slot. */
  appLimit: number;
}

type Started = { chain: Chain<object>; state: object } | { problem: string };

interface Ran {
  outcome: { final: object } | { error: unknown };
  pending: PendingProgress;
  abortRequested: boolean;
  stepName: string | null;
}

/**
 * Runs one claimed execution, top-down: start (find the chain, read the input or the saved state) → run
 * (the steps, with progress and a checkpoint after each) → finish (one fenced UPDATE: SUCCESS, ABORTED,
 * FAILED, or SCHEDULED for a retry).
 */
export async function runExecution(
  job: ExecutionJob,
  host: JobContext,
  settings: RunSettings,
): Promise<void> {
  const lease: Lease = { id: job.id, workerId: host.workerId, attempt: job.attempt };
  let finished = false;
  try {
    const started = startExecution(job);
    if ("problem" in started) {
      await finish(job, host, settings, lease, emptyProgress(), { kind: "failed", error: started.problem });
      finished = true;
      return;
    }
    const ran = await runSteps(job, host, lease, started, settings);
    // Lease lost or shutdown past the grace period: not ours to end (recovery requeues or ends it).
    if (host.signal.aborted && !ran.abortRequested) return;
    await finish(job, host, settings, lease, ran.pending, endingOf(job, started.chain, ran));
    finished = true;
  } finally {
    // Capacity was freed without a final update that woke the others: wake every worker process.
    if (!finished) await notify(host.db, EXECUTIONS_CHANNEL).catch(() => {});
  }
}

/** Finds the chain and the state to run on: the input on a first run, the checkpoint on a rerun. */
function startExecution(job: ExecutionJob): Started {
  const chain = getChain(job.chainName) as Chain<object> | undefined;
  if (!chain)
    return { problem: `Unknown chain "${job.chainName}": this worker has no module that defines it` };
  try {
    const resumed = job.completedThrough > 0 && job.state && typeof job.state === "object";
    return { chain, state: resumed ? (job.state as object) : snapshotInput(chain, job.input) };
  } catch (error) {
    return { problem: errorMessage(error) };
  }
}

async function runSteps(
  job: ExecutionJob,
  host: JobContext,
  lease: Lease,
  { chain, state }: { chain: Chain<object>; state: object },
  settings: RunSettings,
): Promise<Ran> {
  const controller = new AbortController();
  const onHostAbort = () => controller.abort(host.signal.reason);
  host.signal.addEventListener("abort", onHostAbort, { once: true });
  const reporter = new ProgressReporter(
    host.db,
    lease,
    settings.progressMs,
    () => controller.abort(new ChainAbortedError("Aborted on request")),
    settings.abortPollMs,
  );
  // abortExecution NOTIFYs: the step's signal is aborted at once, without polling the database.
  const stopHearing = settings.onAbortNotice?.(job.id, () => reporter.abortNow());
  const ctx = makeStepContext<object>({
    state,
    user: { id: job.userId, username: job.username },
    signal: controller.signal,
    db: host.db,
    executionId: job.id,
    sessionId: job.sessionId,
    attempt: job.attempt,
    setProgress: (sofar, totalwork) => reporter.setProgress(sofar, totalwork),
    setStatus: (message) => reporter.setStatus(message),
    files: () => readExecutionFiles(host.db, job.id),
    awaitingChild: async (waiting) => {
      // The slot it holds afterwards (given up while waiting): the final update frees that one.
      job.slot = (await markAwaitingChild(host.db, lease, waiting, settings.appLimit)) ?? 0;
    },
  });
  const last = chain.leafSteps.length;
  reporter.start();
  let outcome: Ran["outcome"];
  try {
    const final = await executeSteps(
      chain,
      ctx,
      {
        beforeStep: (step, sequence) => reporter.step(step.name, sequence),
        // The last step's state goes into the final update; earlier ones are saved before the next runs.
        afterStep: (_step, sequence, current) =>
          sequence < last ? reporter.checkpoint(sequence, current) : undefined,
      },
      job.completedThrough,
    );
    outcome = { final };
  } catch (error) {
    outcome = { error };
  } finally {
    host.signal.removeEventListener("abort", onHostAbort);
    stopHearing?.();
  }
  // A finished chain's final UPDATE reads abort_requested itself; only a failure needs to know it first.
  const pending = await reporter.stop({ readAbortRequest: !("final" in outcome) });
  return { outcome, pending, abortRequested: reporter.abortRequested, stepName: reporter.currentStep };
}

function endingOf(job: ExecutionJob, chain: Chain<object>, ran: Ran): Ending {
  if ("final" in ran.outcome) return { kind: "success", state: ran.outcome.final };
  if (ran.abortRequested || ran.outcome.error instanceof ChainAbortedError) return { kind: "aborted" };
  const error = errorMessage(ran.outcome.error).slice(0, 2000);
  if (chain.retry && job.attempt < maxAttemptsOf(chain)) {
    return { kind: "retry", error, delayMs: retryDelayMs(chain.retry, job.attempt), stepName: ran.stepName };
  }
  return { kind: "failed", error, stepName: ran.stepName };
}

function finish(
  job: ExecutionJob,
  host: JobContext,
  settings: RunSettings,
  lease: Lease,
  pending: PendingProgress,
  ending: Ending,
): Promise<void> {
  return finishExecution(host.db, {
    lease,
    slot: job.slot,
    pending,
    ending,
    limited: job.limited,
    appLimit: settings.appLimit,
  });
}

const emptyProgress = (): PendingProgress => ({
  sofar: null,
  totalwork: null,
  message: null,
  stepName: null,
  stepSequence: null,
});
