import "server-only";
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { eq, lt, sql } from "drizzle-orm";
import { type DatabaseHandle, notify } from "@/db/client";
import { workerProcesses } from "@/db/schema";
import { errorMessage } from "@/lib/error-message";
import type { Consumer, LocalIntake } from "./consumer";

export type WorkerKind = "web" | "worker";

export interface ConsumerStatus {
  name: string;
  inFlight: number;
  /** Claim rounds completed (whether or not they found work): a test can wait for the next one. */
  claims: number;
  /** Jobs this process wrote already leased to the host and handed over (no claim): see `LocalIntake`. */
  adopted: number;
  processed: number;
  failed: number;
  lastError: string | null;
}

export interface WorkerHostStatus {
  id: string;
  kind: WorkerKind;
  running: boolean;
  consumers: ConsumerStatus[];
}

interface Logger {
  error(message: string, error?: unknown): void;
  info(message: string): void;
}

const consoleLogger: Logger = {
  error: (message, error) => console.error(`[worker] ${message}`, error ?? ""),
  info: (message) => console.log(`[worker] ${message}`),
};

const REGISTRY_HEARTBEAT_MS = 5_000;
/** Registry rows silent this long belong to dead processes and are removed. */
export const WORKER_STALE_AFTER_MS = 30_000;

/** Runs one consumer: claims while there is capacity, sleeps until woken or the poll interval passes. */
class ConsumerRunner<Job> {
  private readonly inFlight = new Map<string, { controller: LazyAbort; done: Promise<void> }>();
  /** Slots held by `LocalIntake.reserve` for jobs being written in this process. */
  private reserved = 0;
  /** Slots a claim in progress may fill. */
  private claiming = 0;
  /**
   * The last claim left free slots and nothing was announced since (NOTIFY, a claimed job's end, work left
   * waiting by a local enqueue): no work is known to wait in the table for this worker.
   */
  private caughtUp = false;
  /** Hand-backs of jobs adopted after stop() began; stop() waits for them. */
  private readonly handingBack = new Set<Promise<void>>();
  /** Resolved when a slot frees (a job ends or a reservation is given back). */
  private freed: { promise: Promise<void>; resolve: () => void } | null = null;
  private wakeRequested = true;
  private wakeUp: (() => void) | null = null;
  private loopDone: Promise<void> = Promise.resolve();
  private unlisteners: (() => Promise<void>)[] = [];
  private leaseTimer: NodeJS.Timeout | null = null;
  private lastRecovery = 0;
  private running = false;
  private signalStopped: () => void = () => {};
  private readonly stopped = new Promise<void>((resolve) => {
    this.signalStopped = resolve;
  });
  readonly stats: ConsumerStatus;

  constructor(
    private readonly consumer: Consumer<Job>,
    private readonly handle: DatabaseHandle,
    private readonly workerId: string,
    private readonly log: Logger,
  ) {
    this.stats = {
      name: consumer.name,
      inFlight: 0,
      claims: 0,
      adopted: 0,
      processed: 0,
      failed: 0,
      lastError: null,
    };
  }

  async start(): Promise<void> {
    this.running = true;
    this.unlisteners.push(await this.handle.listen(this.consumer.channel, () => this.wake()));
    for (const { channel, onNotify } of this.consumer.listens ?? []) {
      this.unlisteners.push(await this.handle.listen(channel, onNotify));
    }
    this.leaseTimer = setInterval(() => void this.renewLeases(), Math.max(50, this.consumer.leaseMs / 3));
    this.loopDone = this.loop();
    this.consumer.started?.(this.intake());
  }

  private intake(): LocalIntake<Job> {
    return {
      db: this.handle.db,
      workerId: this.workerId,
      leaseMs: this.consumer.leaseMs,
      reserve: (wanted) => {
        if (!this.running || !this.caughtUp || this.wakeRequested) return 0;
        const granted = Math.max(0, Math.min(wanted, this.free()));
        this.reserved += granted;
        return granted;
      },
      adopt: (jobs, reserved, leftWaiting = false) => {
        this.reserved -= reserved;
        // Slots given back (and stop() waiting for the last reservation) are looked at again.
        if (reserved > 0) this.signalFreed();
        // The same enqueue queued more than it could hand over: claim those before lending again.
        if (leftWaiting) this.wake();
        if (jobs.length === 0) return;
        if (!this.running) {
          const handing = this.handBack(jobs.map((job) => this.consumer.keyOf(job))).finally(() =>
            this.handingBack.delete(handing),
          );
          this.handingBack.add(handing);
          return;
        }
        this.stats.adopted += jobs.length;
        // Not part of the claim loop's wake-ups: these rows were never due, so no sender waits on their end.
        for (const job of jobs) this.run(job, false);
      },
    };
  }

  private free(): number {
    return this.consumer.concurrency - this.inFlight.size - this.reserved - this.claiming;
  }

  /** Gives jobs' leases back (so another worker takes them at once) and announces them. */
  private async handBack(keys: string[]): Promise<void> {
    if (keys.length === 0 || !this.consumer.releaseLeases) return;
    try {
      await this.consumer.releaseLeases(this.handle.db, { workerId: this.workerId, keys });
      await notify(this.handle.db, this.consumer.channel);
    } catch (error) {
      this.log.error(`${this.consumer.name}: release failed`, error);
    }
  }

  private signalFreed(): void {
    this.freed?.resolve();
    this.freed = null;
  }

  private nextFreed(): Promise<void> {
    if (!this.freed) {
      let resolve = () => {};
      const promise = new Promise<void>((done) => {
        resolve = done;
      });
      this.freed = { promise, resolve };
    }
    return this.freed.promise;
  }

  wake(): void {
    this.wakeRequested = true;
    this.caughtUp = false;
    this.wakeUp?.();
  }

  private async loop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.free();
      const batch = Math.min(this.consumer.claimBatch ?? 1, this.consumer.concurrency);
      if (free <= 0 || (this.inFlight.size + this.reserved > 0 && free < batch)) {
        // At capacity (or below the claim batch): only a freed slot (or stop) makes claiming worthwhile.
        await Promise.race([this.nextFreed(), this.stopped]);
        continue;
      }
      this.wakeRequested = false;
      // Held until the claim returns: slots lent meanwhile could otherwise be filled twice.
      this.claiming = free;
      try {
        await this.recoverIfDue();
        const jobs = await this.consumer.claim(this.handle.db, {
          workerId: this.workerId,
          limit: free,
          leaseMs: this.consumer.leaseMs,
        });
        failures = 0;
        this.stats.claims += 1;
        this.claiming = 0;
        // A wake-up during the claim may announce rows its snapshot did not see.
        this.caughtUp = jobs.length < free && !this.wakeRequested;
        for (const job of jobs) this.run(job, true);
        if (jobs.length === free) continue;
      } catch (error) {
        this.claiming = 0;
        // Database gone (restart, network): back off and try again; postgres.js reconnects by itself.
        failures += 1;
        this.stats.lastError = errorMessage(error);
        if (failures === 1) this.log.error(`${this.consumer.name}: claim failed`, error);
        this.wakeRequested = false;
        await this.sleep(Math.min(5_000, 100 * 2 ** failures));
        continue;
      }
      await this.sleep(this.consumer.pollMs);
    }
  }

  /** Waits for a wake-up (NOTIFY, freed capacity, stop) or the timeout, whichever comes first. */
  private sleep(ms: number): Promise<void> {
    if (this.wakeRequested || !this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      const self = this;
      function finish() {
        clearTimeout(timer);
        self.wakeUp = null;
        resolve();
      }
      this.wakeUp = finish;
    });
  }

  private async recoverIfDue(): Promise<void> {
    if (!this.consumer.recoverExpired || Date.now() - this.lastRecovery < this.consumer.pollMs) return;
    this.lastRecovery = Date.now();
    await this.consumer.recoverExpired(this.handle.db);
  }

  /** `wake`: claim again when it ends (a claimed job's end may leave work due that nobody announced). */
  private run(job: Job, wake: boolean): void {
    const key = this.consumer.keyOf(job);
    const controller = new LazyAbort();
    const done = (async () => {
      try {
        await this.consumer.process(job, {
          get signal() {
            return controller.signal;
          },
          workerId: this.workerId,
          db: this.handle.db,
        });
        this.stats.processed += 1;
      } catch (error) {
        this.stats.failed += 1;
        this.stats.lastError = errorMessage(error);
        this.log.error(`${this.consumer.name}: job ${key} failed`, error);
      } finally {
        this.inFlight.delete(key);
        this.stats.inFlight = this.inFlight.size;
        this.signalFreed();
        if (wake) this.wake();
      }
    })();
    this.inFlight.set(key, { controller, done });
    this.stats.inFlight = this.inFlight.size;
  }

  private async renewLeases(): Promise<void> {
    const keys = [...this.inFlight.keys()];
    if (keys.length === 0) return;
    try {
      const kept = new Set(
        await this.consumer.renewLeases(this.handle.db, {
          workerId: this.workerId,
          keys,
          leaseMs: this.consumer.leaseMs,
        }),
      );
      for (const key of keys) {
        if (!kept.has(key)) this.inFlight.get(key)?.controller.abort(new Error("lease lost"));
      }
    } catch (error) {
      this.stats.lastError = errorMessage(error);
    }
  }

  /** Stops claiming, lets running jobs finish for `graceMs`, then aborts them and hands them back. */
  async stop(graceMs: number): Promise<void> {
    this.running = false;
    this.signalStopped();
    this.wakeUp?.();
    await this.loopDone;
    // One grace period for both waits: local enqueues still writing rows leased to this worker (their jobs
    // are handed back when they end), then running jobs.
    const deadline = Date.now() + graceMs;
    const graceLeft = () => delay(Math.max(0, deadline - Date.now()), true, { ref: false });
    while (this.reserved > 0 && Date.now() < deadline) {
      await Promise.race([this.nextFreed(), graceLeft()]);
    }
    await Promise.all(this.handingBack);
    const pending = [...this.inFlight.values()].map((entry) => entry.done);
    const timedOut = await Promise.race([Promise.all(pending).then(() => false), graceLeft()]);
    if (timedOut) {
      for (const entry of this.inFlight.values()) entry.controller.abort(new Error("worker stopping"));
      await this.handBack([...this.inFlight.keys()]);
    }
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await Promise.all(this.unlisteners.splice(0).map((unlisten) => unlisten().catch(() => {})));
    this.consumer.stopped?.();
  }
}

/**
 * The one place background work runs: the web server starts one in-process, `npm run worker` starts more.
 * Each registered consumer gets a claim loop woken by LISTEN/NOTIFY with a polling fallback.
 */
export class WorkerHost {
  readonly id: string;
  private readonly runners: ConsumerRunner<unknown>[] = [];
  private registryTimer: NodeJS.Timeout | null = null;
  private running = false;

  constructor(
    private readonly handle: DatabaseHandle,
    readonly kind: WorkerKind,
    private readonly log: Logger = consoleLogger,
  ) {
    this.id = `${kind}:${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  }

  register<Job>(consumer: Consumer<Job>): this {
    if (this.running) throw new Error("register consumers before start()");
    this.runners.push(
      new ConsumerRunner(consumer, this.handle, this.id, this.log) as ConsumerRunner<unknown>,
    );
    return this;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    await this.handle.db.insert(workerProcesses).values({
      id: this.id,
      kind: this.kind,
      hostname: hostname(),
      pid: process.pid,
      consumers: this.runners.map((runner) => runner.stats.name),
    });
    for (const runner of this.runners) await runner.start();
    this.registryTimer = setInterval(() => void this.heartbeat(), REGISTRY_HEARTBEAT_MS);
    this.registryTimer.unref();
  }

  private async heartbeat(): Promise<void> {
    try {
      const db = this.handle.db;
      await db
        .insert(workerProcesses)
        .values({
          id: this.id,
          kind: this.kind,
          hostname: hostname(),
          pid: process.pid,
          consumers: this.runners.map((runner) => runner.stats.name),
        })
        .onConflictDoUpdate({ target: workerProcesses.id, set: { heartbeatAt: sql`now()` } });
      await db
        .delete(workerProcesses)
        .where(
          lt(
            workerProcesses.heartbeatAt,
            sql`now() - make_interval(secs => ${WORKER_STALE_AFTER_MS / 1000})`,
          ),
        );
    } catch (error) {
      this.log.error("registry heartbeat failed", error);
    }
  }

  /** Wakes every consumer at once, e.g. after an admin's "send now". */
  wakeAll(): void {
    for (const runner of this.runners) runner.wake();
  }

  status(): WorkerHostStatus {
    return {
      id: this.id,
      kind: this.kind,
      running: this.running,
      consumers: this.runners.map((runner) => ({ ...runner.stats })),
    };
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.registryTimer) clearInterval(this.registryTimer);
    await Promise.all(this.runners.map((runner) => runner.stop(graceMs)));
    await this.handle.db
      .delete(workerProcesses)
      .where(eq(workerProcesses.id, this.id))
      .catch((error) => this.log.error("could not remove registry row", error));
  }
}

/**
 * A job's abort signal, made when the job first asks for it: most jobs never do (a push send), and an
 * AbortController per job cost ~3 µs of a push message's CPU (bench profile). Aborted before it was asked
 * for, the signal is made already aborted, with the same reason.
 */
class LazyAbort {
  private controller: AbortController | undefined;
  private reason: { error: unknown } | undefined;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason) this.controller.abort(this.reason.error);
    }
    return this.controller.signal;
  }

  abort(error: unknown): void {
    if (this.controller) this.controller.abort(error);
    else this.reason ??= { error };
  }
}
