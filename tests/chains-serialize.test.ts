import { inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { type Execution, executions, users } from "@/db/schema";
import { type Chain, ChainBusyError, defineChain, runInBackground } from "@/lib/chains";
import { executionsConsumer } from "@/lib/chains/consumer";
import { WorkerHost } from "@/lib/worker/host";
import { maxOverlap } from "./support/executions";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const fast = { leaseMs: 1_500, pollMs: 100, progressMs: 30, maxConcurrent: 10 };

/** Steps that wait until the test opens their gate, so "running at once" is a state, not a timing. */
const gates = new Map<string, () => void>();
const opened = new Set<string>();
const gate = (tag: string) =>
  opened.has(tag) ? Promise.resolve() : new Promise<void>((resolve) => gates.set(tag, resolve));
const open = (tag: string) => {
  opened.add(tag);
  gates.get(tag)?.();
};

type Tagged = { tag: string; dept?: number };
const step = [{ name: "Wait for the gate", run: ({ state }: { state: Tagged }) => gate(state.tag) }];

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
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let other: DatabaseHandle;
  let bo: { id: number; username: string };
  let steve: { id: number; username: string };
  const hosts: WorkerHost[] = [];

  async function startHost(on: DatabaseHandle) {
    const host = new WorkerHost(on, "worker", quiet).register(executionsConsumer(fast));
    hosts.push(host);
    await host.start();
  }
  /** The executions `ids`, read in one statement (one snapshot), in the order asked. */
  async function rows(ids: number[]): Promise<Execution[]> {
    const found = await handle.db.select().from(executions).where(inArray(executions.id, ids));
    return ids.map((id) => found.find((r) => r.id === id)!);
  }
  const statuses = async (ids: number[]) => (await rows(ids)).map((r) => r.status);
  async function finished(ids: number[]) {
    const ended = await waitFor(
      () => rows(ids),
      (all) => all.every((r) => r.status === "SUCCESS"),
      15_000,
    );
    expect(ended.map((r) => r.status)).toEqual(ids.map(() => "SUCCESS"));
    return ended;
  }
  const enqueue = <S extends object>(chain: Chain<S>, input: S, who = bo, session = "s-1", db = handle.db) =>
    runInBackground(chain, input, { user: who, session, db });

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_ser");
    handle = fresh.handle;
    other = createDatabase({ url: fresh.url, maxConnections: 4 });
    const all = await handle.db.select({ id: users.id, username: users.username }).from(users);
    bo = all.find((u) => u.username === "bo")!;
    steve = all.find((u) => u.username === "steve")!;
  });

  afterEach(async () => {
    for (const release of gates.values()) release();
    await Promise.all(hosts.splice(0).map((host) => host.stop(1_000)));
    gates.clear();
    opened.clear();
    await handle.db.delete(executions);
  });

  afterAll(async () => {
    await other.close();
    await fresh.drop();
  });

  it('"chain": one at a time for all users and sessions, across two worker processes', async () => {
    await startHost(handle);
    await startHost(other);
    const ids = [
      await enqueue(perChain, { tag: "c1" }, bo, "s-1"),
      await enqueue(perChain, { tag: "c2" }, steve, "s-2"),
      await enqueue(perChain, { tag: "c3" }, bo, "s-3"),
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
    await startHost(handle);
    const a1 = await enqueue(perKey, { tag: "a1", dept: 10 });
    const a2 = await enqueue(perKey, { tag: "a2", dept: 10 }, steve, "s-2");
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
      [1, 2, 3, 4].map((n) => enqueue(refusing, { tag: `e${n}`, dept: 30 }, bo, `s-${n}`, other.db)),
    );
    const accepted = attempts.filter((a): a is PromiseFulfilledResult<number> => a.status === "fulfilled");
    expect(accepted).toHaveLength(1);
    const holder = accepted[0]!.value;
    for (const refused of attempts.filter((a): a is PromiseRejectedResult => a.status === "rejected")) {
      expect(refused.reason).toBeInstanceOf(ChainBusyError);
      expect(refused.reason).toMatchObject({ executionId: holder, username: "bo", status: "ENQUEUED" });
    }

    await startHost(handle);
    await waitFor(
      () => statuses([holder]),
      (s) => s[0] === "EXECUTING",
    );
    const refused = await enqueue(refusing, { tag: "late", dept: 30 }, steve, "s-9").catch((e) => e);
    expect(refused).toBeInstanceOf(ChainBusyError);
    expect(refused).toMatchObject({ chainName: "test.ser.error", executionId: holder, username: "bo" });
    expect((refused as Error).message).toBe(
      `"Process department 30" is already running (execution ${holder}, started by bo); wait for it to finish.`,
    );
    // Another key is free; once the holder ended, its key is free again.
    const other40 = await enqueue(refusing, { tag: "d40", dept: 40 }, steve, "s-9");
    expect(await handle.db.$count(executions)).toBe(2);
    open("d40");
    open(((await rows([holder]))[0]!.input as Tagged).tag);
    await finished([holder, other40]);
    await expect(enqueue(refusing, { tag: "again", dept: 30 }, steve, "s-9")).resolves.toBeGreaterThan(0);
  });

  it("true still means per session; a serialize key that is no text is refused at enqueue", () => {
    expect(() => defineChain<Tagged>({ name: "test.ser.bad", whenRunning: "error", steps: step })).toThrow(
      'whenRunning "error" needs a serialize mode',
    );
    const empty = defineChain<Tagged>({ name: "test.ser.empty", serialize: { key: () => "" }, steps: step });
    return expect(enqueue(empty, { tag: "x" })).rejects.toThrow("serialize key must be a text of 1 to 200");
  });
});
