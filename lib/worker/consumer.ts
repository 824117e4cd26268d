import type { Database } from "@/db/client";

export interface JobContext {
  /** Aborted when the host stops past its grace period or the job's lease was lost to another worker. */
  signal: AbortSignal;
  workerId: string;
  db: Database;
}

/**
 * A kind of work the worker host runs. The consumer owns its table; the host owns the loop: when to
 * claim (NOTIFY wake-up, polling fallback, freed capacity), lease renewal, and shutdown.
 */
export interface Consumer<Job> {
  name: string;
  /** NOTIFY channel that announces new work. */
  channel: string;
  /** Jobs in flight at once in one process. */
  concurrency: number;
  /**
   * While jobs are in flight, wait until this many slots are free before claiming again (default 1): fewer,
   * larger claims under load. With nothing in flight the loop claims at once, so latency is unchanged.
   */
  claimBatch?: number;
  /** How long a claim holds without a heartbeat; renewed every third of it. */
  leaseMs: number;
  /** Fallback poll when no notification arrives (also when leases of dead workers are reclaimed). */
  pollMs: number;
  /** Stable identity of a job, for lease bookkeeping. */
  keyOf(job: Job): string;
  /** Claims up to `limit` due jobs (FOR UPDATE SKIP LOCKED) under a lease owned by `workerId`. */
  claim(db: Database, args: { workerId: string; limit: number; leaseMs: number }): Promise<Job[]>;
  /** Runs one claimed job; records its own outcome. A thrown error is logged by the host. */
  process(job: Job, ctx: JobContext): Promise<void>;
  /** Extends the leases of jobs still held; returns the keys it could renew (others were lost). */
  renewLeases(db: Database, args: { workerId: string; keys: string[]; leaseMs: number }): Promise<string[]>;
  /** Hands unfinished jobs back at shutdown so another worker takes them at once. */
  releaseLeases?(db: Database, args: { workerId: string; keys: string[] }): Promise<void>;
  /** More channels this consumer hears while it runs (e.g. abort requests for jobs it holds). */
  listens?: { channel: string; onNotify(payload: string): void }[];
  /** Periodic housekeeping, such as ending jobs whose worker died. */
  recoverExpired?(db: Database): Promise<void>;
  /**
   * Called when its host starts: `intake` runs jobs this process claimed for the host itself (rows written
   * already leased to `intake.workerId`), without a claim query or a NOTIFY.
   */
  started?(intake: LocalIntake<Job>): void;
  /** Called when its host stops, after the last job: close what the consumer keeps open (connections). */
  stopped?(): void;
}

/** A running consumer's free slots, offered to work made in the same process (see `Consumer.started`). */
export interface LocalIntake<Job> {
  db: Database;
  workerId: string;
  /** How long a lease written for this worker must hold (it is renewed like a claimed job's). */
  leaseMs: number;
  /**
   * Holds up to `wanted` free slots and returns how many: 0 while the host is stopping, or while work may be
   * waiting in the table (its last claim filled every free slot, or work was announced since): that goes
   * first.
   */
  reserve(wanted: number): number;
  /**
   * Runs `jobs` (already leased to `workerId`) in slots held by `reserve`, and frees the rest of the
   * `reserved` ones. `leftWaiting`: the same write queued work it could not hand over (the host claims it
   * before lending again). A host stopping meanwhile hands the jobs back (`releaseLeases`, then a NOTIFY).
   */
  adopt(jobs: Job[], reserved: number, leftWaiting?: boolean): void;
}
