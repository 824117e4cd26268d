import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { executions } from "@/db/schema";
import { ChainBusyError, defineChain } from "@/lib/chains";
import { chainsHarness } from "./support/chains-harness";
import { maxOverlap } from "./support/executions";
import { waitFor } from "./support/fresh-database";

const h = chainsHarness("an_chains_ser", {
  leaseMs: 1_500,
  pollMs: 100,
  progressMs: 30,
  maxConcurrent: 10,
});

type Tagged = { tag: string; dept?: number };
const step = [{ name: "Wait for the gate", run: ({ state }: { state: Tagged }) => h.gates.wait(state.tag) }];

const perChain = defineChain<Tagged>({ name: "test.ser.chain", serialize: "chain", steps: step });
const perKey = defineChain<Tagged>({
  name: "test.ser.key",
  serialize: { key: (input) => `dept-${input.dept}` },
  steps: step,
});
const refusing = defineChain<Tagged>({
  name: "test.ser.error",
  title: (input) => `Process department ${input.dept}`,
  serialize: { key: (input) => String(input.dept) },
  whenRunning: "error",
  steps: step,
});

describe("serialize modes (E5) on PostgreSQL", () => {
  const { rows, statuses } = h;
  const open = (tag: string) => h.gates.open(tag);
  const startHost = (on?: DatabaseHandle) => h.startHost({}, on);
  let other: DatabaseHandle;
  const bo = () => h.bo;
  const steve = () => h.steve;
  async function finished(ids: number[]) {
    const ended = await waitFor(
      () => rows(ids),
      (all) => all.every((r) => r.status === "SUCCESS"),
      15_000,
    );
    expect(ended.map((r) => r.status)).toEqual(ids.map(() => "SUCCESS"));
    return ended;
  }
  const enqueue = h.enqueue;

  // A second connection pool: a second worker process.
  beforeAll(() => {
    other = createDatabase({ url: h.fresh.url, maxConnections: 4 });
  });
  afterAll(() => other.close());

  it('"chain": one at a time for all users and sessions, across two worker processes', async () => {
    await startHost();
    await startHost(other);
    const ids = [
      await enqueue(perChain, { tag: "c1" }, bo(), "s-1"),
      await enqueue(perChain, { tag: "c2" }, steve(), "s-2"),
      await enqueue(perChain, { tag: "c3" }, bo(), "s-3"),
    ];
    for (const [index, tag] of ["c1", "c2", "c3"].entries()) {
      // The next one starts only after the previous ended; the others stay ENQUEUED meanwhile.
      const seen = await waitFor(
        () => statuses(ids),
        (s) => s[index] === "EXECUTING",
      );
      expect(seen.filter((s) => s === "EXECUTING")).toHaveLength(1);
      expect(seen.slice(index + 1).every((s) => s === "ENQUEUED")).toBe(true);
      open(tag);
    }
    const ended = await finished(ids);
    expect(maxOverlap(ended)).toBe(1);
  });

  it("a key: one at a time per key, different keys run in parallel", async () => {
    await startHost();
    const a1 = await enqueue(perKey, { tag: "a1", dept: 10 });
    const a2 = await enqueue(perKey, { tag: "a2", dept: 10 }, steve(), "s-2");
    const b1 = await enqueue(perKey, { tag: "b1", dept: 20 });
    // Departments 10 and 20 run at the same time; the second of department 10 waits.
    const seen = await waitFor(
      () => statuses([a1, a2, b1]),
      (s) => s[0] === "EXECUTING" && s[2] === "EXECUTING",
    );
    expect(seen).toEqual(["EXECUTING", "ENQUEUED", "EXECUTING"]);
    open("a1");
    await waitFor(
      () => statuses([a2]),
      (s) => s[0] === "EXECUTING",
    );
    open("a2");
    open("b1");
    const ended = await finished([a1, a2, b1]);
    expect(maxOverlap(ended.slice(0, 2))).toBe(1);
    expect(maxOverlap(ended)).toBe(2);
  });

  it('"error": refuses with a ChainBusyError naming the runner and its execution, even when racing', async () => {
    const attempts = await Promise.allSettled(
      [1, 2, 3, 4].map((n) => enqueue(refusing, { tag: `e${n}`, dept: 30 }, bo(), `s-${n}`, other.db)),
    );
    const accepted = attempts.filter((a): a is PromiseFulfilledResult<number> => a.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    const holder = accepted[0]!.value;
    for (const refused of attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected")) {
      expect(refused.reason).toBeInstanceOf(ChainBusyError);
      expect(refused.reason).toMatchObject({ executionId: holder, username: "bo", status: "ENQUEUED" });
    }

    await startHost();
    await waitFor(
      () => statuses([holder]),
      (s) => s[0] === "EXECUTING",
    );
    const refused = await enqueue(refusing, { tag: "late", dept: 30 }, steve(), "s-9").catch((e) => e);
    expect(refused).toBeInstanceOf(ChainBusyError);
    expect(refused).toMatchObject({ chainName: "test.ser.error", executionId: holder, username: "bo" });
    expect((refused as Error).message).toBe(
      `"Process department 30" is already running (execution ${holder}, started by bo); wait for it to finish.`,
    );
    // Another key is free; once the holder ended, its key is free again.
    const other40 = await enqueue(refusing, { tag: "d40", dept: 40 }, steve(), "s-9");
    expect(await h.db.$count(executions)).toBe(2);
    open("d40");
    open(((await rows([holder]))[0]!.input as Tagged).tag);
    await finished([holder, other40]);
    await expect(enqueue(refusing, { tag: "again", dept: 30 }, steve(), "s-9")).resolves.toBeGreaterThan(0);
  });

  it("true still means per session; a serialize key that is no text is refused at enqueue", () => {
    expect(() => defineChain<Tagged>({ name: "test.ser.bad", whenRunning: "error", steps: step })).toThrow(
      'whenRunning "error" needs a serialize mode',
    );
    const empty = defineChain<Tagged>({ name: "test.ser.empty", serialize: { key: () => "" }, steps: step });
    return expect(enqueue(empty, { tag: "x" })).rejects.toThrow("serialize key must be a text of 1 to 200");
  });
});
