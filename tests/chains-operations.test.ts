import { inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { type Execution, executionSettings, executions, users } from "@/db/schema";
import {
  abortAllExecutions,
  type Chain,
  defineChain,
  getConcurrencyUsage,
  getExecutionLimits,
  retryExecution,
  runInBackground,
  setExecutionLimits,
} from "@/lib/chains";
import { executionsConsumer } from "@/lib/chains/consumer";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, sleep, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const fast = { leaseMs: 1_500, pollMs: 100, progressMs: 30, maxConcurrent: 4, maxPerUser: 4 };

const gates = new Map<string, () => void>();
const gate = (tag: string) => new Promise<void>((resolve) => gates.set(tag, resolve));

type Tagged = { tag: string };
const quick = defineChain<Tagged>({ name: "test.ops.quick", steps: [{ name: "Nothing", run: () => {} }] });
const held = defineChain<Tagged>({
  name: "test.ops.held",
  steps: [{ name: "Wait for the gate", run: ({ state }) => gate(state.tag) }],
});
const listening = defineChain<Tagged>({
  name: "test.ops.listening",
  steps: [
    {
      name: "Wait for an abort",
      run: ({ signal }) =>
        new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })),
    },
  ],
});
const stepRuns: string[] = [];
let brokenDisk = true;
const flaky = defineChain<Tagged & { prepared?: boolean }>({
  name: "test.ops.flaky",
  steps: [
    {
      name: "Prepare",
      run: ({ state }) => {
        stepRuns.push("prepare");
        state.prepared = true;
      },
    },
    {
      name: "Store",
      run: () => {
        stepRuns.push("store");
        if (brokenDisk) throw new Error("disk full");
      },
    },
  ],
});

describe("operations (E10): runtime limits, abort all, dead letters", () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let bo: { id: number; username: string };
  let steve: { id: number; username: string };
  const hosts: WorkerHost[] = [];

  async function startHost() {
    const host = new WorkerHost(handle, "worker", quiet).register(executionsConsumer(fast));
    hosts.push(host);
    await host.start();
  }
  async function rows(ids: number[]): Promise<Execution[]> {
    const found = await handle.db.select().from(executions).where(inArray(executions.id, ids));
    return ids.map((id) => found.find((r) => r.id === id)!);
  }
  const statuses = async (ids: number[]) => (await rows(ids)).map((r) => r.status);
  const enqueue = <S extends object>(chain: Chain<S>, input: S, who = bo) =>
    runInBackground(chain, input, { user: who, session: `s-${who.username}`, db: handle.db });

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_ops");
    handle = fresh.handle;
    const all = await handle.db.select({ id: users.id, username: users.username }).from(users);
    bo = all.find((u) => u.username === "bo")!;
    steve = all.find((u) => u.username === "steve")!;
  });

  afterEach(async () => {
    for (const release of gates.values()) release();
    await Promise.all(hosts.splice(0).map((host) => host.stop(1_000)));
    gates.clear();
    await handle.db.delete(executions);
    await handle.db.delete(executionSettings);
  });

  afterAll(() => fresh.drop());

  it("a running worker sees a changed application-wide limit within 2 s, without a restart", async () => {
    await setExecutionLimits({ app: 0 }, { by: "admin" }, handle.db);
    await startHost(); // its own default is 4: the stored 0 holds everything
    const ids = [await enqueue(quick, { tag: "a" }), await enqueue(quick, { tag: "b" }, steve)];
    await sleep(400); // several claims of the running host
    expect(await statuses(ids)).toEqual(["ENQUEUED", "ENQUEUED"]);
    expect(await getConcurrencyUsage(handle.db)).toMatchObject({ limit: 0, queued: 2 });

    await setExecutionLimits({ app: 3 }, { by: "admin" }, handle.db);
    const ran = await waitFor(
      () => statuses(ids),
      (s) => s.every((status) => status === "SUCCESS"),
      2_000,
    );
    expect(ran).toEqual(["SUCCESS", "SUCCESS"]);
    expect((await getExecutionLimits(handle.db)).app).toEqual({ value: 3, fallback: expect.any(Number) });
    await setExecutionLimits({ app: null }, { by: "admin" }, handle.db);
    expect((await getExecutionLimits(handle.db)).app.value).toBeNull();
  });

  it("per-chain and per-user runtime limits: 0 holds a chain while others run; 1 per user", async () => {
    await setExecutionLimits({ chains: { "test.ops.held": 0 }, perUser: 1 }, { by: "admin" }, handle.db);
    await startHost();
    const heldId = await enqueue(held, { tag: "h" });
    const bos = [await enqueue(listening, { tag: "l1" }), await enqueue(listening, { tag: "l2" })];
    const seen = await waitFor(
      () => statuses([heldId, ...bos]),
      (s) => s[1] === "EXECUTING",
    );
    expect(seen).toEqual(["ENQUEUED", "EXECUTING", "ENQUEUED"]);
    const limits = await getExecutionLimits(handle.db);
    expect(limits.perUser.value).toBe(1);
    expect(limits.chains.find((c) => c.chainName === "test.ops.held")).toMatchObject({ value: 0 });

    await setExecutionLimits({ chains: { "test.ops.held": 1 }, perUser: 3 }, { by: "admin" }, handle.db);
    expect(
      await waitFor(
        () => statuses([heldId, ...bos]),
        (s) => s.every((status) => status === "EXECUTING"),
        2_000,
      ),
    ).toEqual(["EXECUTING", "EXECUTING", "EXECUTING"]);
    await expect(setExecutionLimits({ app: -1 }, { by: "admin" }, handle.db)).rejects.toThrow(
      "whole number from 0 to 10000",
    );
  });

  it("aborts all executions of one chain, then of the whole application", async () => {
    await setExecutionLimits({ app: 2 }, { by: "admin" }, handle.db);
    await startHost();
    const listeners = [await enqueue(listening, { tag: "1" }), await enqueue(listening, { tag: "2" }, steve)];
    const waitingOne = await enqueue(listening, { tag: "3" });
    await waitFor(
      () => statuses(listeners),
      (s) => s.every((status) => status === "EXECUTING"),
    );
    const heldId = await enqueue(held, { tag: "other chain" });

    expect(await abortAllExecutions({ chainName: "test.ops.listening" }, handle.db)).toEqual({
      aborted: 1,
      abortRequested: 2,
    });
    const ended = await waitFor(
      () => statuses([...listeners, waitingOne, heldId]),
      (s) => s.slice(0, 3).every((status) => status === "ABORTED") && s[3] === "EXECUTING",
    );
    expect(ended).toEqual(["ABORTED", "ABORTED", "ABORTED", "EXECUTING"]);

    const queued = await enqueue(quick, { tag: "q" });
    expect(await abortAllExecutions({}, handle.db)).toEqual({ aborted: 1, abortRequested: 1 });
    expect(await statuses([queued])).toEqual(["ABORTED"]);
    // The held step ignores its signal: it ends ABORTED at the step boundary once it returns.
    gates.get("other chain")?.();
    expect(
      await waitFor(
        () => statuses([heldId]),
        (s) => s[0] === "ABORTED",
      ),
    ).toEqual(["ABORTED"]);
  });

  it("retries a FAILED execution: the same execution resumes at the failed step and succeeds", async () => {
    brokenDisk = true;
    stepRuns.length = 0;
    await startHost();
    const id = await enqueue(flaky, { tag: "f" });
    const [failed] = await waitFor(
      () => rows([id]),
      ([r]) => r?.status === "FAILED",
    );
    expect(failed).toMatchObject({ status: "FAILED", error: "disk full", attempt: 1, maxAttempts: 1 });
    expect(await retryExecution({ id: id + 1_000 }, handle.db)).toBe("not_found");

    brokenDisk = false;
    expect(await retryExecution({ id }, handle.db)).toBe("retried");
    const [ended] = await waitFor(
      () => rows([id]),
      ([r]) => r?.status === "SUCCESS",
    );
    expect(ended).toMatchObject({ status: "SUCCESS", attempt: 2, maxAttempts: 2, error: null });
    expect(ended!.attemptLog).toEqual([
      { attempt: 1, step: "Store", error: "disk full", at: expect.any(String) },
    ]);
    // "Prepare" completed in the first run and was not run again.
    expect(stepRuns).toEqual(["prepare", "store", "store"]);
    expect(await retryExecution({ id }, handle.db)).toBe("not_failed");
  });
});
