import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { type Execution, executions, users } from "@/db/schema";
import { seedDatabase } from "@/db/seed";
import {
  abortExecution,
  type Chain,
  defineChain,
  executionsConsumer,
  retryDelayMs,
  runInBackground,
} from "@/lib/chains";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const fast = { leaseMs: 1_500, pollMs: 50, progressMs: 30 };

/** How often each step body ran, across attempts (the steps run in this process). */
const runs = new Map<string, number>();
const count = (key: string) => runs.set(key, (runs.get(key) ?? 0) + 1);
/** What the flaky step saw of the state at the start of each attempt. */
const seen: unknown[] = [];

interface FlakyState {
  key: string;
  counted?: number;
  partial?: number;
  succeededIn?: number;
}

const flaky = defineChain<FlakyState>({
  name: "test.retry.flaky",
  title: (input) => `Flaky work ${input.key}`,
  retry: { maxAttempts: 3, backoff: { initialMs: 100, factor: 2 }, jitter: false },
  steps: [
    {
      name: "Count",
      run: (ctx) => {
        count(`${ctx.state.key}:count`);
        ctx.state.counted = (ctx.state.counted ?? 0) + 1;
      },
    },
    {
      name: "Flaky",
      run: (ctx) => {
        seen.push({ ...ctx.state });
        ctx.state.partial = ctx.attempt; // lost when the attempt fails: only completed steps are saved
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        ctx.state.succeededIn = ctx.attempt;
      },
    },
  ],
});

const hopeless = defineChain<{ why: string }>({
  name: "test.retry.hopeless",
  retry: { maxAttempts: 2, backoff: { initialMs: 20 } },
  steps: [
    {
      name: "Fail",
      run: (ctx) => {
        throw new Error(`${ctx.state.why} ${ctx.attempt}`);
      },
    },
  ],
});

const patient = defineChain<{ tries?: number }>({
  name: "test.retry.patient",
  retry: { maxAttempts: 5, backoff: { initialMs: 60_000 } },
  steps: [
    {
      name: "Fail once",
      run: () => {
        count("patient");
        throw new Error("not yet");
      },
    },
  ],
});

interface NestedState {
  entered?: boolean;
  a?: number;
  c?: boolean;
  d?: boolean;
}
const inner = defineChain<NestedState>({
  name: "test.retry.inner",
  // True only the first time: a rerun inside this chain must not ask again (it would answer false).
  when: (state) => !state.entered,
  steps: [
    {
      name: "B",
      run: (ctx) => {
        ctx.state.entered = true;
      },
    },
    {
      name: "C",
      run: (ctx) => {
        if (ctx.attempt === 1) throw new Error("C failed once");
        ctx.state.c = true;
      },
    },
  ],
});
const outer = defineChain<NestedState>({
  name: "test.retry.outer",
  retry: { maxAttempts: 2, backoff: { initialMs: 10 } },
  steps: [
    {
      name: "A",
      run: (ctx) => {
        count("outer:a");
        ctx.state.a = (ctx.state.a ?? 0) + 1;
      },
    },
    inner,
    {
      name: "D",
      // Async conditions may read the database.
      when: async (_state, ctx) => (await ctx.db.$count(users)) > 0,
      run: (ctx) => {
        ctx.state.d = true;
      },
    },
  ],
});

const once = defineChain<{ n: number }>({
  name: "test.retry.none",
  steps: [
    {
      name: "Fail",
      run: () => {
        throw new Error("no second chance");
      },
    },
  ],
});

describe("retry with backoff and durable steps", () => {
  let fresh: FreshDatabase;
  let bo: { id: number; username: string };
  const hosts: WorkerHost[] = [];

  const row = async (id: number): Promise<Execution> => {
    const [found] = await fresh.handle.db.select().from(executions).where(eq(executions.id, id));
    if (!found) throw new Error(`no execution ${id}`);
    return found;
  };
  const until = (id: number, done: (r: Execution) => boolean, timeoutMs = 15_000) =>
    waitFor(() => row(id), done, timeoutMs);
  const enqueue = <S extends object>(chain: Chain<S>, input: S) =>
    runInBackground(chain, input, { user: bo, session: "retry", db: fresh.handle.db });

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_retry");
    const [found] = await fresh.handle.db.select().from(users).where(eq(users.username, "bo"));
    bo = { id: found!.id, username: found!.username };
    const host = new WorkerHost(fresh.handle, "worker", quiet).register(executionsConsumer(fast));
    hosts.push(host);
    await host.start();
  });

  afterEach(() => {
    runs.clear();
    seen.length = 0;
  });

  afterAll(async () => {
    await Promise.all(hosts.map((host) => host.stop(1_000)));
    await fresh.drop();
  });

  it("re-queues a failing execution with exponential backoff, keeps each attempt's error, and succeeds on the third", async () => {
    const id = await enqueue(flaky, { key: "a" });

    // Attempt 1 failed: SCHEDULED (waiting for its backoff), the error in the history.
    const waiting = await until(id, (r) => (r.attemptLog as unknown[]).length >= 1);
    expect(waiting).toMatchObject({ attempt: 1, maxAttempts: 3, error: "boom 1", title: "Flaky work a" });
    expect(["SCHEDULED", "EXECUTING", "SUCCESS"]).toContain(waiting.status);

    const ended = await until(id, (r) => r.status === "SUCCESS");
    expect(ended).toMatchObject({ status: "SUCCESS", attempt: 3, leaseOwner: null });
    expect(ended.attemptLog).toEqual([
      { attempt: 1, step: "Flaky", error: "boom 1", at: expect.any(String) },
      { attempt: 2, step: "Flaky", error: "boom 2", at: expect.any(String) },
    ]);
    // Durable steps: "Count" completed in attempt 1 and was not run again; each retry started from the
    // state saved after it, without what the failed attempt changed.
    expect(runs.get("a:count")).toBe(1);
    expect(ended.state).toEqual({ key: "a", counted: 1, partial: 3, succeededIn: 3 });
    expect(seen).toEqual([
      { key: "a", counted: 1 },
      { key: "a", counted: 1 },
      { key: "a", counted: 1 },
    ]);
  });

  it("resumes inside a nested chain without asking its condition again; completed steps stay done", async () => {
    const id = await enqueue(outer, {});
    const ended = await until(id, (r) => r.status === "SUCCESS" || r.status === "FAILED");
    expect(ended).toMatchObject({ status: "SUCCESS", attempt: 2, completedThrough: 3 });
    expect(ended.state).toEqual({ a: 1, entered: true, c: true, d: true });
    expect(runs.get("outer:a")).toBe(1);
  });

  it("waits initialMs × factor^(attempt−1) between attempts (no jitter)", async () => {
    const id = await enqueue(flaky, { key: "b" });
    const gaps: number[] = [];
    for (const attempt of [1, 2]) {
      const waiting = await until(id, (r) => r.status === "SCHEDULED" && r.attempt === attempt);
      expect(waiting.status).toBe("SCHEDULED");
      // run_at and updated_at come from the same UPDATE: the gap is the backoff the engine chose.
      gaps.push(waiting.runAt!.getTime() - waiting.updatedAt.getTime());
    }
    expect(gaps[0]).toBeGreaterThanOrEqual(99);
    expect(gaps[0]).toBeLessThan(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(199);
    expect(gaps[1]).toBeLessThan(250);
    expect((await until(id, (r) => r.status === "SUCCESS")).status).toBe("SUCCESS");
  });

  it("ends FAILED only after the last attempt; without a retry policy at once, as before", async () => {
    const hopelessId = await enqueue(hopeless, { why: "nope" });
    const onceId = await enqueue(once, { n: 1 });
    const failed = await until(hopelessId, (r) => r.status === "FAILED");
    expect(failed).toMatchObject({ attempt: 2, maxAttempts: 2, error: "nope 2" });
    expect((failed.attemptLog as { error: string }[]).map((entry) => entry.error)).toEqual([
      "nope 1",
      "nope 2",
    ]);
    const single = await until(onceId, (r) => r.status === "FAILED");
    expect(single).toMatchObject({ attempt: 1, maxAttempts: 1, error: "no second chance" });
    expect(single.attemptLog).toHaveLength(1);
  });

  it("an execution waiting for its retry can be aborted and never runs again", async () => {
    const id = await enqueue(patient, {});
    const waiting = await until(id, (r) => r.status === "SCHEDULED");
    expect(waiting.runAt!.getTime()).toBeGreaterThan(Date.now() + 20_000);
    expect(await abortExecution({ id, by: { userId: bo.id, mayAbortAny: false } }, fresh.handle.db)).toBe(
      "aborted",
    );
    expect(await row(id)).toMatchObject({ status: "ABORTED", attempt: 1 });
    expect(runs.get("patient")).toBe(1);
  });

  it("computes backoff delays: growing by the factor, capped, jittered between half and all", () => {
    const policy = {
      maxAttempts: 10,
      backoff: { initialMs: 1_000, factor: 3, maxMs: 20_000 },
      jitter: false,
    };
    expect([1, 2, 3, 4].map((attempt) => retryDelayMs(policy, attempt))).toEqual([
      1_000, 3_000, 9_000, 20_000,
    ]);
    const jittered = { ...policy, jitter: true };
    expect(retryDelayMs(jittered, 2, () => 0)).toBe(1_500);
    expect(retryDelayMs(jittered, 2, () => 0.999_999)).toBe(3_000);
    expect(retryDelayMs({ maxAttempts: 2 }, 1, () => 1)).toBe(1_000);
  });

  it("refuses a nonsensical retry policy when the chain is defined", () => {
    expect(() =>
      defineChain({
        name: "test.retry.bad",
        retry: { maxAttempts: 0 },
        steps: [{ name: "x", run: () => {} }],
      }),
    ).toThrow("retry.maxAttempts must be a whole number from 1 to 100");
  });
});

describe("retry on the embedded database", () => {
  let handle: DatabaseHandle;
  let host: WorkerHost;
  beforeAll(async () => {
    handle = createDatabase({ pgliteDataDir: "memory://" });
    await migrateDatabase(handle);
    await seedDatabase(handle.db, "demo");
    host = new WorkerHost(handle, "web", quiet).register(executionsConsumer(fast));
    await host.start();
    // Migrating and seeding the embedded database is slow on a busy machine.
  }, 180_000);
  afterAll(async () => {
    await host?.stop(1_000);
    await handle?.close();
  });

  it("retries and resumes after the completed step inside the single PGlite process", async () => {
    const [bo] = await handle.db.select().from(users).where(eq(users.username, "bo"));
    const id = await runInBackground(flaky, { key: "pglite" }, { user: bo!, db: handle.db });
    const [ended] = await waitFor(
      () => handle.db.select().from(executions).where(eq(executions.id, id)),
      (rows) => rows[0]?.status === "SUCCESS" || rows[0]?.status === "FAILED",
      20_000,
    );
    expect(ended).toMatchObject({ status: "SUCCESS", attempt: 3 });
    expect(ended?.attemptLog).toHaveLength(2);
    expect(runs.get("pglite:count")).toBe(1);
  });
});
