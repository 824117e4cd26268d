import "server-only";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import webpush from "web-push";
import { pushEncryptionThreads } from "./metrics";

/**
 * The thread's code (CommonJS, evaluated: no file of ours to find once Next.js has bundled this one). It
 * encrypts a batch with web-push's `encrypt` (RFC 8291 aes128gcm: a fresh ECDH key pair and salt per message)
 * and sends the bodies back in one transferred buffer, with each one's length or, if it failed, why.
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const webpush = require(workerData.webPush);
parentPort.on("message", ({ batch, jobs }) => {
  let total = 0;
  const bodies = jobs.map(([p256dh, auth, payload]) => {
    try {
      const { cipherText } = webpush.encrypt(p256dh, auth, payload, "aes128gcm");
      total += cipherText.length;
      return cipherText;
    } catch (error) {
      return String((error && error.message) || error);
    }
  });
  const bytes = new Uint8Array(total);
  let offset = 0;
  const lengths = bodies.map((body) => {
    if (typeof body === "string") return body;
    bytes.set(body, offset);
    offset += body.length;
    return body.length;
  });
  parentPort.postMessage({ batch, lengths, bytes }, [bytes.buffer]);
});
`;

interface Pending {
  resolve: (body: Buffer) => void;
  reject: (error: Error) => void;
}

interface Queued {
  job: [p256dh: string, auth: string, payload: string];
  pending: Pending;
}

interface Thread {
  worker: Worker;
  /** Batches sent and not answered, by number. */
  batches: Map<number, Queued[]>;
  /** Messages in those batches. */
  load: number;
  /** Answered at least once: a thread that fails before that cannot start here. */
  answered: boolean;
}

/** Threads for the sender's encryption: fewer than the cores, so the main thread keeps one. */
const THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));

/**
 * Push-message encryption off the main thread. The encryption is most of a send's CPU (the ECDH
 * agreement with the device's key, ~125 µs of ~200 on the bench machine); on the main thread it held up every
 * I/O callback of a busy sender, which then ran at one core's pace while the other sat partly idle. Here a
 * turn's messages go to the threads as one batch each, and come back as one buffer.
 *
 * Where no thread can start (web-push cannot be loaded by one), messages are encrypted on the main thread, a
 * few per event-loop turn; a thread that stops after it worked fails its messages (their sends are retried as
 * any failed send) and is replaced at the next message.
 */
export class EncryptionThreads {
  private readonly threads: (Thread | undefined)[] = Array.from({ length: THREADS });
  private queued: Queued[] = [];
  private flushScheduled = false;
  private nextBatch = 1;
  private inline = false;
  private readonly turns = new Turns(ENCRYPTIONS_PER_TURN);

  /** The aes128gcm body for the device's keys (rejects with web-push's message for bad keys). */
  async encrypt(p256dh: string, auth: string, payload: string): Promise<Buffer> {
    if (this.inline) {
      await this.turns.next();
      return webpush.encrypt(p256dh, auth, payload, "aes128gcm").cipherText;
    }
    return new Promise((resolve, reject) => {
      this.queued.push({ job: [p256dh, auth, payload], pending: { resolve, reject } });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Stops the threads; what they had, or was waiting for them, fails. A later message starts new ones. */
  close(): void {
    const stopped = () => new Error("The sender stopped before the message was encrypted.");
    for (const { pending } of this.queued.splice(0)) pending.reject(stopped());
    for (const [i, thread] of this.threads.entries()) {
      if (!thread) continue;
      this.threads[i] = undefined;
      pushEncryptionThreads.dec();
      for (const { pending } of this.unanswered(thread)) pending.reject(stopped());
      void thread.worker.terminate();
    }
  }

  /** This turn's messages, split among the threads by what each has in hand. */
  private readonly flush = () => {
    this.flushScheduled = false;
    const queued = this.queued;
    this.queued = [];
    if (this.inline) {
      this.encryptInline(queued);
      return;
    }
    let threads: Thread[];
    try {
      threads = this.threads.map((_, i) => this.thread(i));
    } catch (error) {
      this.fallBack(error);
      this.encryptInline(queued);
      return;
    }
    const share = Math.ceil(queued.length / threads.length);
    threads.sort((a, b) => a.load - b.load);
    for (const [k, thread] of threads.entries()) {
      const part = queued.slice(k * share, (k + 1) * share);
      if (part.length === 0) break;
      const batch = this.nextBatch++;
      thread.batches.set(batch, part);
      thread.load += part.length;
      thread.worker.ref();
      thread.worker.postMessage({ batch, jobs: part.map((entry) => entry.job) });
    }
  };

  private thread(i: number): Thread {
    const existing = this.threads[i];
    if (existing) return existing;
    const worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: { webPush: webPushPath() },
      // Plain CommonJS: none of the process's loaders (tsx under `npm run worker`) is needed there.
      execArgv: [],
    });
    const thread: Thread = { worker, batches: new Map(), load: 0, answered: false };
    pushEncryptionThreads.inc();
    worker.unref();
    worker.on(
      "message",
      ({ batch, lengths, bytes }: { batch: number; lengths: (number | string)[]; bytes: Uint8Array }) => {
        thread.answered = true;
        const part = thread.batches.get(batch) ?? [];
        thread.batches.delete(batch);
        thread.load -= part.length;
        if (thread.load === 0) worker.unref();
        let offset = 0;
        for (const [k, length] of lengths.entries()) {
          if (typeof length === "string") {
            part[k]?.pending.reject(new Error(length));
            continue;
          }
          part[k]?.pending.resolve(Buffer.from(bytes.buffer, bytes.byteOffset + offset, length));
          offset += length;
        }
      },
    );
    const stopped = (error: Error) => {
      if (this.threads[i] !== thread) return;
      this.threads[i] = undefined;
      pushEncryptionThreads.dec();
      const unanswered = this.unanswered(thread);
      if (thread.answered) {
        for (const { pending } of unanswered) pending.reject(error);
        return;
      }
      // A thread that never answered cannot run here: encrypt on the main thread from now on.
      this.fallBack(error);
      this.encryptInline(unanswered);
    };
    worker.on("error", stopped);
    worker.on("exit", (code) => stopped(new Error(`The encryption thread stopped (exit code ${code}).`)));
    this.threads[i] = thread;
    return thread;
  }

  /** The messages the thread was given and has not answered (it answers none of them after this). */
  private unanswered(thread: Thread): Queued[] {
    const batches = [...thread.batches.values()];
    thread.batches.clear();
    thread.load = 0;
    return batches.flat();
  }

  private fallBack(error: unknown) {
    if (this.inline) return;
    this.inline = true;
    console.warn(
      `[push] encrypting on the main thread: no encryption thread can start here (${error instanceof Error ? error.message : String(error)})`,
    );
  }

  private encryptInline(queued: Queued[]) {
    for (const { job, pending } of queued) this.encrypt(...job).then(pending.resolve, pending.reject);
  }
}

/** Where web-push is, for the thread's require (this module may be bundled far from node_modules). */
function webPushPath(): string {
  return createRequire(path.join(process.cwd(), "package.json")).resolve("web-push");
}

/** Bench (2 vCPUs, 128 in flight): 1 per turn cost 20 % more CPU (each send written alone), 4–16 similar. */
const ENCRYPTIONS_PER_TURN = 8;

/**
 * Encryptions on the main thread take turns with I/O, a few per event-loop turn: the claims of a busy sender
 * would otherwise encrypt 32–128 messages (5–20 ms) in one go, holding up every I/O callback meanwhile:
 * database answers, push-service answers, other callers' enqueues (drained 10,000 queued: 2,650–2,740 →
 * 3,270–3,390 msg/s). A few per turn keep their sends written together.
 */
export class Turns {
  private readonly waiting: (() => void)[] = [];
  private scheduled = false;

  constructor(private readonly perTurn: number) {}

  next(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.grant);
      }
    });
  }

  private readonly grant = () => {
    if (this.waiting.length === 0) {
      this.scheduled = false;
      return;
    }
    for (const resolve of this.waiting.splice(0, this.perTurn)) resolve();
    setImmediate(this.grant);
  };
}
