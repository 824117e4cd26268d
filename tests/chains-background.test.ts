import { existsSync } from "node:fs";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { type Execution, executionFiles, executions, users } from "@/db/schema";
import { seedDatabase } from "@/db/seed";
import {
  abortExecution,
  type Chain,
  defineChain,
  ExecutionLimitError,
  listExecutions,
  purgeExecutions,
  runInBackground,
  startChain,
} from "@/lib/chains";
import { executionsConsumer, WORKER_STOPPED } from "@/lib/chains/consumer";
import { WorkerHost } from "@/lib/worker/host";
import { claimedTwiceMore } from "./support/chains-harness";
import { maxOverlap } from "./support/executions";
import { type FreshDatabase, freshDatabase, sleep, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const fast = { leaseMs: 1_500, pollMs: 100, progressMs: 30 };

/** Counts executions running at once inside this process, to check the limits from the inside. */
class Gauge {
  current = 0;
  max = 0;
  async hold<T>(fn: () => Promise<T>): Promise<T> {
    this.current += 1;
    this.max = Math.max(this.max, this.current);
    try {
      return await fn();
    } finally {
      this.current -= 1;
    }
  }
}

let gauge = new Gauge();
const latches = new Map<string, () => void>();
const ranSteps: string[] = [];

function latch(key: string): Promise<void> {
  return new Promise((resolve) => latches.set(key, resolve));
}

const sleepy = defineChain<{ ms: number; tag?: string }>({
  name: "test.bg.sleepy",
  steps: [{ name: "Sleep", run: ({ state }) => gauge.hold(() => sleep(state.ms)) }],
});
const limited = defineChain<{ ms: number }>({
  name: "test.bg.limited",
  maxConcurrent: 2,
  steps: [{ name: "Sleep", run: ({ state }) => gauge.hold(() => sleep(state.ms)) }],
});
const serialized = defineChain<{ ms: number }>({
  name: "test.bg.serialized",
  serialize: true,
  steps: [{ name: "Sleep", run: ({ state }) => sleep(state.ms) }],
});
const onceOnly = defineChain<{ ms: number }>({
  name: "test.bg.once",
  executionsLimit: 2,
  steps: [{ name: "Sleep", run: ({ state }) => sleep(state.ms) }],
});
const gated = defineChain<{ key: string; result?: string }>({
  name: "test.bg.gated",
  steps: [
    {
      name: "Prepare",
      run: ({ state }) => {
        state.result = "prepared";
      },
    },
    {
      name: "Wait for the gate",
      run: async ({ state, setProgress, setStatus }) => {
        setProgress(1, 2);
        setStatus("waiting");
        await latch(state.key);
        state.result = "done";
      },
    },
  ],
});
const failing = defineChain<{ why: string }>({
  name: "test.bg.failing",
  steps: [
    { name: "Fine", run: () => {} },
    {
      name: "Broken",
      run: ({ state }) => {
        throw new Error(state.why);
      },
    },
  ],
});
const chatty = defineChain<{ total: number }>({
  name: "test.bg.chatty",
  steps: [
    {
      name: "Count",
      run: async (ctx) => {
        for (let i = 1; i <= ctx.state.total; i++) {
          ctx.setProgress(i, ctx.state.total);
          ctx.setStatus(`${i} rows processed`);
          if (i % 100 === 0) await sleep(5);
        }
      },
    },
  ],
});
const cooperative = defineChain<{ seen?: boolean }>({
  name: "test.bg.cooperative",
  steps: [
    {
      name: "Wait for abort",
      run: async ({ signal }) => {
        await new Promise<void>((resolve) => {
          signal.addEventListener("abort", () => resolve());
          setTimeout(resolve, 10_000);
        });
      },
    },
  ],
});
const stubborn = defineChain<{ ms: number }>({
  name: "test.bg.stubborn",
  steps: [
    {
      name: "Ignore the signal",
      run: async ({ state }) => {
        ranSteps.push("stubborn:1");
        await sleep(state.ms);
      },
    },
    { name: "Never", run: () => void ranSteps.push("stubborn:2") },
  ],
});
const parent = defineChain<{ children: number }>({
  name: "test.bg.parent",
  steps: [
    {
      name: "Fan out",
      run: async (ctx) => {
        for (let i = 0; i < ctx.state.children; i++) await ctx.runInBackground(cooperative, {});
      },
    },
  ],
});
const withFiles = defineChain<{ label: string; seen?: string[] }>({
  name: "test.bg.copy",
  fileHandling: "copy",
  steps: [
    {
      name: "Read",
      run: async (ctx) => {
        ctx.state.seen = (await ctx.files()).map((file) => `${file.name}:${file.content.toString("utf8")}`);
      },
    },
  ],
});
const movesFiles = defineChain<{ label: string; seen?: string[] }>({
  name: "test.bg.move",
  fileHandling: "move",
  steps: withFiles.steps,
});
const ignoresFiles = defineChain<{ label: string; seen?: string[] }>({
  name: "test.bg.ignore",
  steps: withFiles.steps,
});
const retryable = defineChain<{ ms: number }>({
  name: "test.bg.retryable",
  retryable: true,
  steps: [{ name: "Sleep", run: ({ state }) => sleep(state.ms) }],
});

describe("background executions on PostgreSQL", () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let other: DatabaseHandle;
  let bo: { id: number; username: string };
  let steve: { id: number; username: string };
  let admin: { id: number; username: string };
  const hosts: WorkerHost[] = [];

  async function startHost(options: Parameters<typeof executionsConsumer>[0] = {}, on = handle) {
    const host = new WorkerHost(on, "worker", quiet).register(executionsConsumer({ ...fast, ...options }));
    hosts.push(host);
    await host.start();
    return host;
  }

  async function row(id: number): Promise<Execution> {
    const [found] = await handle.db.select().from(executions).where(eq(executions.id, id));
    if (!found) throw new Error(`no execution ${id}`);
    return found;
  }

  async function finished(ids: number[], timeoutMs = 15_000): Promise<Execution[]> {
    return waitFor(
      () => Promise.all(ids.map(row)),
      (rows) => rows.every((r) => ["SUCCESS", "FAILED", "ABORTED"].includes(r.status)),
      timeoutMs,
    );
  }

  function enqueue<S extends object>(chain: Chain<S>, input: S, who = bo, session = "session-a") {
    return runInBackground(chain, input, { user: who, session, db: handle.db });
  }

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains");
    handle = fresh.handle;
    other = createDatabase({ url: fresh.url, maxConnections: 4 });
    const all = await handle.db.select({ id: users.id, username: users.username }).from(users);
    const find = (name: string) => all.find((u) => u.username === name) ?? { id: 0, username: name };
    bo = find("bo");
    steve = find("steve");
    admin = find("admin");
  });

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.stop(1_000)));
    for (const release of latches.values()) release();
    latches.clear();
    await handle.db.delete(executions);
    gauge = new Gauge();
  });

  afterAll(async () => {
    await other.close();
    await fresh.drop();
  });

  it("returns an id at once, then goes ENQUEUED → EXECUTING → SUCCESS", async () => {
    const input = { key: "t1" } as { key: string; result?: string };
    const id = await enqueue(gated, input);
    input.key = "changed later"; // the execution works on a snapshot
    expect(await row(id)).toMatchObject({ status: "ENQUEUED", input: { key: "t1" }, attempt: 0 });

    // Drive the consumer by hand: the claim itself starts the execution under the worker's lease.
    const consumer = executionsConsumer(fast);
    const [job] = await consumer.claim(handle.db, { workerId: "worker:manual", limit: 5, leaseMs: 5_000 });
    expect(job).toMatchObject({ id, chainName: "test.bg.gated", username: "bo", attempt: 1 });
    expect(await row(id)).toMatchObject({ status: "EXECUTING", leaseOwner: "worker:manual" });

    const controller = new AbortController();
    const done = consumer.process(job!, {
      signal: controller.signal,
      workerId: "worker:manual",
      db: handle.db,
    });
    const running = await waitFor(
      () => row(id),
      (r) => r.sofar === 1,
    );
    expect(running).toMatchObject({
      status: "EXECUTING",
      stepName: "Wait for the gate",
      stepSequence: 2,
      sofar: 1,
      totalwork: 2,
      statusMessage: "waiting",
      state: { key: "t1", result: "prepared" },
    });
    expect(running.startedAt).not.toBeNull();
    latches.get("t1")?.();
    await done;
    const ended = await row(id);
    expect(ended).toMatchObject({
      status: "SUCCESS",
      state: { key: "t1", result: "done" },
      leaseOwner: null,
    });
    expect(ended.finishedAt!.getTime()).toBeGreaterThanOrEqual(ended.startedAt!.getTime());
    expect(ended.startedAt!.getTime()).toBeGreaterThanOrEqual(ended.createdAt.getTime());
  });

  it("enqueues inside the caller's transaction: nothing is queued when it rolls back", async () => {
    const rolledBack = handle.db.transaction(async (tx) => {
      await runInBackground(sleepy, { ms: 1 }, { user: bo, session: "tx" }, tx);
      throw new Error("decision rejected");
    });
    await expect(rolledBack).rejects.toThrow("decision rejected");
    expect(await handle.db.$count(executions)).toBe(0);
    const id = await handle.db.transaction((tx) =>
      runInBackground(sleepy, { ms: 1 }, { user: bo, session: "tx" }, tx),
    );
    await startHost();
    expect((await finished([id]))[0]?.status).toBe("SUCCESS");
  });

  it("ends FAILED with the error and the step it failed in", async () => {
    await startHost();
    const id = await enqueue(failing, { why: "the ledger is locked" });
    const [ended] = await finished([id]);
    expect(ended).toMatchObject({
      status: "FAILED",
      error: "the ledger is locked",
      stepName: "Broken",
      stepSequence: 2,
    });
  });

  it("coalesces progress: thousands of calls are cheap and the last one is stored", async () => {
    await startHost();
    const id = await enqueue(chatty, { total: 5_000 });
    const [ended] = await finished([id]);
    expect(ended).toMatchObject({
      status: "SUCCESS",
      sofar: 5_000,
      totalwork: 5_000,
      statusMessage: "5000 rows processed",
    });
    // 5,000 calls in 50 × 5 ms sleeps: a write per call would take far longer than this.
    expect(ended!.finishedAt!.getTime() - ended!.startedAt!.getTime()).toBeLessThan(3_000);
  });

  it("starts nothing while the application-wide limit is 0, and everything once it is raised", async () => {
    const holding = await startHost({ maxConcurrent: 0 });
    const ids = await Promise.all([1, 2, 3].map(() => enqueue(sleepy, { ms: 10 })));
    await claimedTwiceMore(holding);
    expect((await Promise.all(ids.map(row))).map((r) => r.status)).toEqual([
      "ENQUEUED",
      "ENQUEUED",
      "ENQUEUED",
    ]);
    await startHost({ maxConcurrent: 2 });
    expect((await finished(ids)).map((r) => r.status)).toEqual(["SUCCESS", "SUCCESS", "SUCCESS"]);
  });

  it("holds the application-wide limit across two hosts on separate connections", async () => {
    // Two users alternate: a per-user limit of 3 leaves the app-wide one (3) to be tested.
    await startHost({ maxConcurrent: 3, maxPerUser: 3, concurrency: 5 }, handle);
    await startHost({ maxConcurrent: 3, maxPerUser: 3, concurrency: 5 }, other);
    const ids: number[] = [];
    for (let i = 0; i < 15; i++) ids.push(await enqueue(sleepy, { ms: 120 }, i % 2 ? bo : steve, `s${i}`));
    const rows = await finished(ids, 20_000);
    expect(rows.every((r) => r.status === "SUCCESS")).toBe(true);
    expect(gauge.max).toBe(3);
    expect(maxOverlap(rows)).toBeLessThanOrEqual(3);
  });

  it("holds a chain's maxConcurrent across hosts while other chains keep running", async () => {
    await startHost({ maxConcurrent: 10, concurrency: 4 }, handle);
    await startHost({ maxConcurrent: 10, concurrency: 4 }, other);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) ids.push(await enqueue(limited, { ms: 120 }, bo, `s${i}`));
    const free = await enqueue(sleepy, { ms: 50 });
    const rows = await finished(ids, 20_000);
    expect(rows.every((r) => r.status === "SUCCESS")).toBe(true);
    expect(maxOverlap(rows)).toBe(2);
    // The unrelated chain did not wait for the limited one's queue to drain.
    const unrelated = (await finished([free]))[0]!;
    expect(unrelated.finishedAt!.getTime()).toBeLessThan(rows.at(-1)!.finishedAt!.getTime());
  });

  it("serializes executions of a chain per session, while other sessions run alongside", async () => {
    await startHost({ maxConcurrent: 10, concurrency: 6 });
    const a = [
      await enqueue(serialized, { ms: 150 }, bo, "A"),
      await enqueue(serialized, { ms: 150 }, bo, "A"),
    ];
    const a3 = await enqueue(serialized, { ms: 150 }, bo, "A");
    const b = await enqueue(serialized, { ms: 150 }, steve, "B");
    const rows = await finished([...a, a3, b]);
    const sessionA = rows.slice(0, 3);
    expect(maxOverlap(sessionA)).toBe(1);
    // In order within the session.
    expect(sessionA.map((r) => r.startedAt!.getTime())).toEqual(
      [...sessionA.map((r) => r.startedAt!.getTime())].sort((x, y) => x - y),
    );
    expect(maxOverlap(rows)).toBe(2);
  });

  it("refuses the execution past executionsLimit per session with a clear error, even when racing", async () => {
    const attempts = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() =>
        runInBackground(onceOnly, { ms: 100 }, { user: bo, session: "S", db: other.db }),
      ),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(2);
    const refused = attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected");
    expect(refused).toHaveLength(3);
    for (const r of refused) {
      expect(r.reason).toBeInstanceOf(ExecutionLimitError);
      expect(r.reason.message).toContain('"test.bg.once" already has 2 executions running or queued');
    }
    // Another session has its own allowance; a finished execution frees one.
    await enqueue(onceOnly, { ms: 100 }, steve, "T");
    await startHost();
    await waitFor(
      () => handle.db.$count(executions, eq(executions.status, "SUCCESS")),
      (n) => n === 3,
    );
    await expect(enqueue(onceOnly, { ms: 1 }, bo, "S")).resolves.toBeGreaterThan(0);
  });

  it("aborts a queued execution at once; it never starts", async () => {
    await startHost({ maxConcurrent: 0 });
    const id = await enqueue(sleepy, { ms: 10 });
    expect(await abortExecution({ id, by: { userId: bo.id, mayAbortAny: false } }, handle.db)).toBe(
      "aborted",
    );
    const aborted = await row(id);
    expect(aborted).toMatchObject({ status: "ABORTED", abortRequested: true, startedAt: null });
    expect(aborted.finishedAt).not.toBeNull();
    await claimedTwiceMore(await startHost({ maxConcurrent: 4 }));
    expect((await row(id)).status).toBe("ABORTED");
    expect(await abortExecution({ id, by: { userId: bo.id, mayAbortAny: false } }, handle.db)).toBe(
      "finished",
    );
  });

  it("aborts a running execution through its AbortSignal", async () => {
    await startHost();
    const id = await enqueue(cooperative, {});
    await waitFor(
      () => row(id),
      (r) => r.status === "EXECUTING",
    );
    const asked = Date.now();
    expect(await abortExecution({ id, by: { userId: bo.id, mayAbortAny: false } }, handle.db)).toBe(
      "abort_requested",
    );
    const [ended] = await finished([id], 5_000);
    expect(ended).toMatchObject({ status: "ABORTED", error: null });
    expect(Date.now() - asked).toBeLessThan(2_000);
  });

  it("stops a step that ignores the signal at the next step boundary", async () => {
    ranSteps.length = 0;
    await startHost();
    const id = await enqueue(stubborn, { ms: 500 });
    await waitFor(
      () => row(id),
      (r) => r.status === "EXECUTING",
    );
    await abortExecution({ id, by: { userId: admin.id, mayAbortAny: true } }, handle.db);
    const [ended] = await finished([id], 5_000);
    expect(ended?.status).toBe("ABORTED");
    expect(ranSteps).toEqual(["stubborn:1"]);
  });

  it("lets users abort only their own executions; an admin aborts anyone's", async () => {
    await startHost({ maxConcurrent: 0 });
    const id = await enqueue(sleepy, { ms: 10 }, bo);
    expect(await abortExecution({ id, by: { userId: steve.id, mayAbortAny: false } }, handle.db)).toBe(
      "not_found",
    );
    expect((await row(id)).status).toBe("ENQUEUED");
    expect(await abortExecution({ id: 999_999, by: { userId: bo.id, mayAbortAny: false } }, handle.db)).toBe(
      "not_found",
    );
    expect(await abortExecution({ id, by: { userId: admin.id, mayAbortAny: true } }, handle.db)).toBe(
      "aborted",
    );
    expect((await listExecutions({ userId: steve.id }, handle.db)).map((e) => e.id)).not.toContain(id);
    expect((await listExecutions({ userId: bo.id }, handle.db)).map((e) => e.id)).toContain(id);
  });

  it("runs nested background chains as child executions; aborting the parent aborts them", async () => {
    await startHost({ maxConcurrent: 1 });
    const id = await enqueue(parent, { children: 2 });
    const children = await waitFor(
      () => handle.db.select().from(executions).where(eq(executions.parentId, id)),
      (rows) => rows.length === 2,
    );
    expect(children.every((c) => c.userId === bo.id && c.sessionId === "session-a")).toBe(true);
    await finished([id]);
    await abortExecution({ id, by: { userId: bo.id, mayAbortAny: false } }, handle.db);
    const ended = await finished(children.map((c) => c.id));
    expect(ended.map((c) => c.status)).toEqual(["ABORTED", "ABORTED"]);
  });

  it("copies, moves or ignores an uploaded file, and purging removes the copy", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "chains-"));
    const upload = async (name: string) => {
      const file = path.join(dir, name);
      await writeFile(file, `rows of ${name}`);
      return { name, contentType: "text/csv", path: file };
    };
    const copyFile = await upload("copy.csv");
    const moveFile = await upload("move.csv");
    const ignoreFile = await upload("ignore.csv");
    const copied = await runInBackground(
      withFiles,
      { label: "c" },
      { user: bo, file: copyFile, db: handle.db },
    );
    const moved = await runInBackground(
      movesFiles,
      { label: "m" },
      { user: bo, file: moveFile, db: handle.db },
    );
    const ignored = await runInBackground(
      ignoresFiles,
      { label: "i" },
      { user: bo, file: ignoreFile, db: handle.db },
    );
    expect(existsSync(copyFile.path)).toBe(true);
    expect(existsSync(moveFile.path)).toBe(false);
    expect(existsSync(ignoreFile.path)).toBe(true);
    await startHost();
    const rows = await finished([copied, moved, ignored]);
    expect(rows.map((r) => (r.state as { seen: string[] }).seen)).toEqual([
      ["copy.csv:rows of copy.csv"],
      ["move.csv:rows of move.csv"],
      [],
    ]);
    expect(await handle.db.$count(executionFiles)).toBe(2);
    expect(await purgeExecutions({ olderThanMs: 0 }, handle.db)).toBe(3);
    expect(await handle.db.$count(executionFiles)).toBe(0);
  });

  it("ends an execution whose worker died FAILED, and re-runs a retryable one", async () => {
    const plain = await enqueue(sleepy, { ms: 10 });
    const again = await enqueue(retryable, { ms: 10 });
    // A worker claims both, starts them, and dies: no heartbeat, no outcome.
    const consumer = executionsConsumer(fast);
    const jobs = await consumer.claim(handle.db, { workerId: "worker:dead", limit: 2, leaseMs: 300 });
    expect(jobs).toHaveLength(2);
    await handle.db.execute(sql`update executions set status = 'EXECUTING', started_at = clock_timestamp()`);
    const host = await startHost();
    const [failed, rerun] = await finished([plain, again]);
    expect(failed).toMatchObject({ status: "FAILED", error: WORKER_STOPPED, attempt: 1 });
    expect(rerun).toMatchObject({ status: "SUCCESS", attempt: 2, error: null });
    expect(host.status().consumers[0]?.processed).toBe(1);
  });

  it("at a stop past the grace period, re-queues retryable executions and fails the others", async () => {
    const host = await startHost();
    const plain = await enqueue(stubborn, { ms: 800 });
    const again = await enqueue(retryable, { ms: 800 });
    await waitFor(
      () => Promise.all([row(plain), row(again)]),
      (rows) => rows.every((r) => r.status === "EXECUTING"),
    );
    await host.stop(50);
    expect(await row(plain)).toMatchObject({ status: "FAILED", error: WORKER_STOPPED, leaseOwner: null });
    expect(await row(again)).toMatchObject({ status: "ENQUEUED", leaseOwner: null, startedAt: null });
    // The interrupted step's late end changes nothing: the row is no longer this worker's.
    await waitFor(
      async () => host.status().consumers[0]?.inFlight,
      (n) => n === 0,
    );
    expect((await row(plain)).status).toBe("FAILED");
    await startHost();
    expect((await finished([again]))[0]).toMatchObject({ status: "SUCCESS", attempt: 2 });
  });

  it("startChain runs a background chain in the background and others in the foreground", async () => {
    const inBackground = defineChain<{ ms: number }>({
      name: "test.bg.flagged",
      background: true,
      steps: sleepy.steps,
    });
    const started = await startChain(inBackground, { ms: 1 }, { user: bo, sessionId: "s", db: handle.db });
    expect(started).toMatchObject({ executionId: expect.any(Number) });
    expect(await startChain(sleepy, { ms: 1 }, { user: bo, db: handle.db })).toEqual({ state: { ms: 1 } });
    await startHost();
    const id = (started as { executionId: number }).executionId;
    expect((await finished([id]))[0]?.status).toBe("SUCCESS");
  });

  it("fails an execution of a chain this worker does not know, with a clear reason", async () => {
    const [inserted] = await handle.db
      .insert(executions)
      .values({ chainName: "nobody.defines.this", userId: bo.id, sessionId: "x", input: {} })
      .returning();
    await startHost();
    const [ended] = await finished([inserted!.id]);
    expect(ended?.status).toBe("FAILED");
    expect(ended?.error).toContain('Unknown chain "nobody.defines.this"');
  });
});

describe("background executions on the embedded database", () => {
  it("run to completion with progress inside the single PGlite process", async () => {
    const handle = createDatabase({ pgliteDataDir: "memory://" });
    await migrateDatabase(handle);
    await seedDatabase(handle.db, "demo");
    const host = new WorkerHost(handle, "web", quiet).register(executionsConsumer(fast));
    await host.start();
    try {
      const [bo] = await handle.db.select().from(users).where(eq(users.username, "bo"));
      const id = await runInBackground(chatty, { total: 300 }, { user: bo!, db: handle.db });
      const [ended] = await waitFor(
        () => handle.db.select().from(executions).where(eq(executions.id, id)),
        (rows) => rows[0]?.status === "SUCCESS",
      );
      expect(ended).toMatchObject({ status: "SUCCESS", sofar: 300, totalwork: 300 });
    } finally {
      await host.stop(1_000);
      await handle.close();
    }
  }, 90_000);
});
