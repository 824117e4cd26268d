import "server-only";
import type { Database } from "@/db/client";
import type { Lease } from "./sql/held";
import { type PendingProgress, readAbortRequest, recordProgress } from "./sql/record-progress";

function whole(value: number): number {
  if (!Number.isFinite(value)) throw new TypeError("progress must be a finite number");
  return Math.max(0, Math.min(2_147_483_647, Math.round(value)));
}

/**
 * Coalesces a running execution's progress and status into one write per tick (steps may report every
 * few milliseconds), writes the checkpoint after each completed step, and learns of an abort request: at
 * once from its notification (abortNow), with every write, and — in case a notification was lost — by
 * reading it when nothing was written for `abortPollMs`.
 */
export class ProgressReporter {
  private pending: PendingProgress = {
    sofar: null,
    totalwork: null,
    message: null,
    stepName: null,
    stepSequence: null,
  };
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  abortRequested = false;
  private lastAbortRead = Date.now();
  /** The step running now (or last), for the attempts history. */
  currentStep: string | null = null;

  constructor(
    private readonly db: Database,
    private readonly lease: Lease,
    private readonly intervalMs: number,
    private readonly onAbortRequested: () => void,
    private readonly abortPollMs = intervalMs,
  ) {}

  /** The abort request was announced (NOTIFY): stop now. */
  abortNow(): void {
    this.requestAbort();
  }

  setProgress(sofar: number, totalwork?: number): void {
    this.pending.sofar = whole(sofar);
    if (totalwork !== undefined) this.pending.totalwork = whole(totalwork);
    this.dirty = true;
  }

  setStatus(message: string): void {
    this.pending.message = String(message).slice(0, 1000);
    this.dirty = true;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.busy = this.busy.then(() => this.tick()).catch(() => {});
    }, this.intervalMs);
  }

  /** Records the step about to run; written with the next tick, checkpoint or final update. */
  step(name: string, sequence: number): void {
    this.currentStep = name;
    this.pending.stepName = name;
    this.pending.stepSequence = sequence;
    this.dirty = true;
  }

  /** Saves the state a completed step left, so a rerun resumes after it. Waits for the write. */
  async checkpoint(completedThrough: number, state: unknown): Promise<void> {
    const run = this.busy.then(() => this.write({ state: JSON.stringify(state), completedThrough }));
    this.busy = run.catch(() => {});
    await run;
  }

  private async tick(): Promise<void> {
    if (this.dirty) return this.write();
    if (this.abortRequested || Date.now() - this.lastAbortRead < this.abortPollMs) return;
    this.lastAbortRead = Date.now();
    if (await readAbortRequest(this.db, this.lease.id)) this.requestAbort();
  }

  private async write(checkpoint?: { state: string; completedThrough: number }): Promise<void> {
    const pending = { ...this.pending };
    this.pending.stepName = null;
    this.pending.stepSequence = null;
    this.dirty = false;
    const abort = await recordProgress(this.db, this.lease, pending, checkpoint);
    this.lastAbortRead = Date.now();
    if (abort) this.requestAbort();
  }

  private requestAbort(): void {
    if (this.abortRequested) return;
    this.abortRequested = true;
    this.onAbortRequested();
  }

  /** Stops ticking and hands back what was not written yet, for the final update. */
  async stop({
    readAbortRequest: read = true,
  }: {
    readAbortRequest?: boolean;
  } = {}): Promise<PendingProgress> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    if (read && !this.abortRequested && (await readAbortRequest(this.db, this.lease.id))) {
      this.abortRequested = true;
    }
    return this.pending;
  }
}
