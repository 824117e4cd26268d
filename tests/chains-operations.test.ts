import { describe, expect, it } from "vitest";
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
import { chainsHarness } from "./support/chains-harness";
import { waitFor } from "./support/fresh-database";

const h = chainsHarness("an_chains_ops", {
  leaseMs: 1_500,
  pollMs: 100,
  progressMs: 30,
  maxConcurrent: 4,
  maxPerUser: 4,
});
const gate = (tag: string) => h.gates.wait(tag);

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
  const { rows, statuses } = h;
  const startHost = () => h.startHost();
  const enqueue = <S extends object>(chain: Chain<S>, input: S, who = h.bo) => h.enqueue(chain, input, who);
  const db = () => h.db;

  it("a running worker sees a changed application-wide limit within 2 s, without a restart", async () => {
    await setExecutionLimits({ app: 0 }, { by: "admin" }, db());
    const host = await startHost(); // its own default is 4: the stored 0 holds everything
    const ids = [await enqueue(quick, { tag: "a" }), await enqueue(quick, { tag: "b" }, h.steve)];
    await h.claimedTwiceMore(host);
    expect(await statuses(ids)).toEqual(["ENQUEUED", "ENQUEUED"]);
    expect(await getConcurrencyUsage(db())).toMatchObject({ limit: 0, queued: 2 });

    await setExecutionLimits({ app: 3 }, { by: "admin" }, db());
    const ran = await waitFor(
      () => statuses(ids),
      (s) => s.every((status) => status === "SUCCESS"),
      2_000,
    );
    expect(ran).toEqual(["SUCCESS", "SUCCESS"]);
    expect((await getExecutionLimits(db())).app).toEqual({ value: 3, fallback: expect.any(Number) });
    await setExecutionLimits({ app: null }, { by: "admin" }, db());
    expect((await getExecutionLimits(db())).app.value).toBeNull();
  });

  it("per-chain and per-user runtime limits: 0 holds a chain while others run; 1 per user", async () => {
    await setExecutionLimits({ chains: { "test.ops.held": 0 }, perUser: 1 }, { by: "admin" }, db());
    await startHost();
    const heldId = await enqueue(held, { tag: "h" });
    const bos = [await enqueue(listening, { tag: "l1" }), await enqueue(listening, { tag: "l2" })];
    const seen = await waitFor(
      () => statuses([heldId, ...bos]),
      (s) => s[1] === "EXECUTING",
    );
    expect(seen).toEqual(["ENQUEUED", "EXECUTING", "ENQUEUED"]);
    const limits = await getExecutionLimits(db());
    expect(limits.perUser.value).toBe(1);
    expect(limits.chains.find((c) => c.chainName === "test.ops.held")).toMatchObject({ value: 0 });

    await setExecutionLimits({ chains: { "test.ops.held": 1 }, perUser: 3 }, { by: "admin" }, db());
    expect(
      await waitFor(
        () => statuses([heldId, ...bos]),
        (s) => s.every((status) => status === "EXECUTING"),
        2_000,
      ),
    ).toEqual(["EXECUTING", "EXECUTING", "EXECUTING"]);
    await expect(setExecutionLimits({ app: -1 }, { by: "admin" }, db())).rejects.toThrow(
      "whole number from 0 to 10000",
    );
  });

  it("aborts all executions of one chain, then of the whole application", async () => {
    await setExecutionLimits({ app: 2 }, { by: "admin" }, db());
    await startHost();
    const listeners = [
      await enqueue(listening, { tag: "1" }),
      await enqueue(listening, { tag: "2" }, h.steve),
    ];
    const waitingOne = await enqueue(listening, { tag: "3" });
    await waitFor(
      () => statuses(listeners),
      (s) => s.every((status) => status === "EXECUTING"),
    );
    const heldId = await enqueue(held, { tag: "other chain" });

    expect(await abortAllExecutions({ chainName: "test.ops.listening" }, db())).toEqual({
      aborted: 1,
      abortRequested: 2,
    });
    const ended = await waitFor(
      () => statuses([...listeners, waitingOne, heldId]),
      (s) => s.slice(0, 3).every((status) => status === "ABORTED") && s[3] === "EXECUTING",
    );
    expect(ended).toEqual(["ABORTED", "ABORTED", "ABORTED", "EXECUTING"]);

    // Waiting (a run a minute from now, so no free slot can start it first), not running.
    const queued = await runInBackground(quick, { tag: "q" }, { user: h.bo, db: db(), delayMs: 60_000 });
    expect(await abortAllExecutions({}, db())).toEqual({ aborted: 1, abortRequested: 1 });
    expect(await statuses([queued])).toEqual(["ABORTED"]);
    // The held step ignores its signal: it ends ABORTED at the step boundary once it returns.
    h.gates.open("other chain");
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
    expect(await retryExecution({ id: id + 1_000 }, db())).toBe("not_found");

    brokenDisk = false;
    expect(await retryExecution({ id }, db())).toBe("retried");
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
    expect(await retryExecution({ id }, db())).toBe("not_failed");
  });
});
