import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";

export interface PendingProgress {
  sofar: number | null;
  totalwork: number | null;
  message: string | null;
  /** The step being run and the state before it (JSON), not written yet. */
  stepName: string | null;
  stepSequence: number | null;
  state: string | null;
}

function whole(value: number): number {
  if (!Number.isFinite(value)) throw new TypeError("progress must be a finite number");
  return Math.max(0, Math.min(2_147_483_647, Math.round(value)));
}

/**
 * Coalesces a running execution's progress and status into one write per tick (steps may report every
 * few milliseconds), and reads back whether someone asked to abort it.
 */
export class ProgressReporter {
  private pending: PendingProgress = {
    sofar: null,
    totalwork: null,
    message: null,
    stepName: null,
    stepSequence: null,
    state: null,
  };
  private dirty = false;
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> = Promise.resolve();
  abortRequested = false;

  constructor(
    private readonly db: Database,
    private readonly executionId: number,
    private readonly workerId: string,
    private readonly intervalMs: number,
    private readonly onAbortRequested: () => void,
  ) {}

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

  /**
   * Records the step about to run with the state so far. Written with the next tick (or the final update),
   * so a chain of quick steps costs no write per step.
   */
  step(name: string, sequence: number, state: unknown): void {
    this.pending.stepName = name;
    this.pending.stepSequence = sequence;
    this.pending.state = JSON.stringify(state);
    this.dirty = true;
  }

  private async tick(): Promise<void> {
    if (this.dirty) {
      await this.write(sql`updated_at = clock_timestamp()`);
      return;
    }
    const [row] = await queryRows<{ abort_requested: boolean }>(
      this.db,
      sql`select abort_requested from executions where id = ${this.executionId}`,
    );
    if (row?.abort_requested) this.requestAbort();
  }

  private async write(extra: ReturnType<typeof sql>): Promise<void> {
    const { sofar, totalwork, message, stepName, stepSequence, state } = this.pending;
    this.pending.stepName = null;
    this.pending.stepSequence = null;
    this.pending.state = null;
    this.dirty = false;
    const [row] = await queryRows<{ abort_requested: boolean }>(
      this.db,
      sql`update executions
          set sofar = coalesce(${sofar}::int, sofar), totalwork = coalesce(${totalwork}::int, totalwork),
              status_message = coalesce(${message}::text, status_message),
              step_name = coalesce(${stepName}::text, step_name),
              step_sequence = coalesce(${stepSequence}::int, step_sequence),
              state = coalesce(${state}::jsonb, state), ${extra}
          where id = ${this.executionId} and lease_owner = ${this.workerId} and status = 'EXECUTING'
          returning abort_requested`,
    );
    if (row?.abort_requested) this.requestAbort();
  }

  private requestAbort(): void {
    if (this.abortRequested) return;
    this.abortRequested = true;
    this.onAbortRequested();
  }

  /** Stops ticking and hands back what was not written yet, for the final update. */
  async stop({ readAbortRequest = true }: { readAbortRequest?: boolean } = {}): Promise<PendingProgress> {
    if (this.timer) clearInterval(this.timer);
    await this.busy;
    if (readAbortRequest && !this.abortRequested) {
      const [row] = await queryRows<{ abort_requested: boolean }>(
        this.db,
        sql`select abort_requested from executions where id = ${this.executionId}`,
      );
      if (row?.abort_requested) this.abortRequested = true;
    }
    return this.pending;
  }
}
