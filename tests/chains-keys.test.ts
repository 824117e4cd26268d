import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Execution, executions, users } from "@/db/schema";
import { ChainInputError, defineChain, executionsConsumer, runInBackground } from "@/lib/chains";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const gates = new Map<string, () => void>();
const order: string[] = [];

const work = defineChain<{ label: string }>({
  name: "test.keys.work",
  title: (input) => `Work ${input.label}`,
  steps: [
    {
      name: "Run",
      run: async (ctx) => {
        order.push(ctx.state.label);
        if (ctx.state.label.startsWith("gate"))
          await new Promise<void>((resolve) => gates.set(ctx.state.label, resolve));
      },
    },
  ],
});

describe("keys and priorities", () => {
  let fresh: FreshDatabase;
  let bo: { id: number; username: string };
  const hosts: WorkerHost[] = [];
  const enqueue = (
    input: { label: string },
    options: Parameters<typeof runInBackground>[2] extends infer O ? Partial<O> : never = {},
  ) => runInBackground(work, input, { user: bo, db: fresh.handle.db, ...options });
  const rows = (ids: number[]) =>
    fresh.handle.db.select().from(executions).where(inArray(executions.id, ids)).orderBy(executions.id);
  const row = async (id: number): Promise<Execution> => (await rows([id]))[0]!;

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_keys");
    const [found] = await fresh.handle.db.select().from(users).where(eq(users.username, "bo"));
    bo = { id: found!.id, username: found!.username };
  });

  afterAll(async () => {
    for (const release of gates.values()) release();
    await Promise.all(hosts.map((host) => host.stop(1_000)));
    await fresh.drop();
  });

  it("a second enqueue with the same chain and key returns the waiting execution; replace swaps its input", async () => {
    const first = await enqueue({ label: "a" }, { key: "report:7" });
    expect(await enqueue({ label: "b" }, { key: "report:7" })).toBe(first);
    expect((await row(first)).input).toEqual({ label: "a" });
    expect(await enqueue({ label: "c" }, { key: "report:7", keyMode: "replace" })).toBe(first);
    expect(await row(first)).toMatchObject({ input: { label: "c" }, title: "Work c", key: "report:7" });
    // Racing enqueues: still one execution.
    const racing = await Promise.all([1, 2, 3, 4].map((n) => enqueue({ label: `r${n}` }, { key: "race" })));
    expect(new Set(racing).size).toBe(1);
    // Another key, or no key, is another execution.
    expect(await enqueue({ label: "d" }, { key: "report:8" })).not.toBe(first);
    expect(await fresh.handle.db.$count(executions)).toBe(3);
  });

  it("runs higher priorities first among waiting executions, oldest first among equals", async () => {
    await fresh.handle.db.delete(executions);
    order.length = 0;
    const low = await enqueue({ label: "low" }, { priority: -5 });
    const normal1 = await enqueue({ label: "normal-1" });
    const high = await enqueue({ label: "high" }, { priority: 10 });
    const normal2 = await enqueue({ label: "normal-2" });
    // One slot: the claim order is the run order.
    const host = new WorkerHost(fresh.handle, "worker", quiet).register(
      executionsConsumer({ maxConcurrent: 1, concurrency: 1, leaseMs: 5_000, pollMs: 50, progressMs: 30 }),
    );
    hosts.push(host);
    await host.start();
    await waitFor(
      () => rows([low, normal1, high, normal2]),
      (list) => list.every((r) => r.status === "SUCCESS"),
    );
    expect(order).toEqual(["high", "normal-1", "normal-2", "low"]);
  });

  it("once the keyed execution ended, the key is free again; a running one is returned, never replaced", async () => {
    const running = await enqueue({ label: "gate-1" }, { key: "k" });
    await waitFor(
      () => row(running),
      (r) => r.status === "EXECUTING",
    );
    expect(await enqueue({ label: "gate-2" }, { key: "k", keyMode: "replace" })).toBe(running);
    expect((await row(running)).input).toEqual({ label: "gate-1" });
    await waitFor(async () => gates.has("gate-1"), Boolean);
    gates.get("gate-1")?.();
    await waitFor(
      () => row(running),
      (r) => r.status === "SUCCESS",
    );
    const next = await enqueue({ label: "after" }, { key: "k" });
    expect(next).not.toBe(running);
  });

  it("refuses a bad key or priority with a clear error", async () => {
    await expect(enqueue({ label: "x" }, { key: "" })).rejects.toThrow(ChainInputError);
    await expect(enqueue({ label: "x" }, { priority: 1.5 })).rejects.toThrow(
      "priority must be a whole number",
    );
  });
});
