import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executionWatchers, users } from "@/db/schema";
import {
  defineChain,
  EXECUTION_STATUS_CHANNEL,
  executionsConsumer,
  getExecution,
  runInBackground,
  watchExecution,
} from "@/lib/chains";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };

const gates = new Map<string, () => void>();
const gated = defineChain<{ key: string }>({
  name: "test.status.gated",
  title: (input) => `Gated work ${input.key}`,
  steps: [
    {
      name: "Report and wait",
      run: async (ctx) => {
        ctx.setProgress(1, 4);
        ctx.setStatus("one of four");
        await new Promise<void>((resolve) => gates.set(ctx.state.key, resolve));
        ctx.setProgress(4, 4);
      },
    },
  ],
});
const quick = defineChain<{ n: number }>({
  name: "test.status.quick",
  steps: [{ name: "Nothing", run: () => {} }],
});

describe("execution status API", () => {
  let fresh: FreshDatabase;
  let host: WorkerHost;
  const people: Record<string, { id: number; username: string }> = {};

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_status");
    for (const row of await fresh.handle.db.select().from(users)) people[row.username] = row;
    host = new WorkerHost(fresh.handle, "worker", quiet).register(
      executionsConsumer({ leaseMs: 5_000, pollMs: 100, progressMs: 30 }),
    );
    await host.start();
  });

  afterAll(async () => {
    for (const release of gates.values()) release();
    await host.stop(1_000);
    await fresh.drop();
  });

  it("getExecution: the owner and admins see it; anyone else gets the same answer as for a missing id", async () => {
    const bo = people.bo!;
    const id = await runInBackground(quick, { n: 1 }, { user: bo, db: fresh.handle.db });
    const db = fresh.handle.db;
    expect(await getExecution(id, { userId: bo.id, mayAbortAny: false }, db)).toMatchObject({
      id,
      username: "bo",
      title: "test.status.quick",
    });
    expect(await getExecution(id, { userId: people.admin!.id, mayAbortAny: true }, db)).toMatchObject({ id });
    expect(await getExecution(id, { userId: people.steve!.id, mayAbortAny: false }, db)).toBeNull();
    expect(await getExecution(id + 1_000, { userId: bo.id, mayAbortAny: false }, db)).toBeNull();
  });

  it("watchExecution hears progress and the end of a watched execution; unwatched ones send nothing", async () => {
    const bo = people.bo!;
    const seen: string[] = [];
    const unlisten = await fresh.handle.listen(EXECUTION_STATUS_CHANNEL, (payload) => seen.push(payload));
    try {
      const unwatched = await runInBackground(gated, { key: "unwatched" }, { user: bo, db: fresh.handle.db });
      const watched = await runInBackground(gated, { key: "watched" }, { user: bo, db: fresh.handle.db });
      let changes = 0;
      const unwatch = await watchExecution(watched, () => changes++, fresh.handle);
      const viewer = { userId: bo.id, mayAbortAny: false };
      const read = () => getExecution(watched, viewer, fresh.handle.db);

      // Progress reaches the watcher (no polling involved: the count moves on NOTIFY).
      await waitFor(
        async () => changes,
        (n) => n >= 1,
      );
      expect((await read())?.statusMessage).toBe("one of four");
      // Both executions run; the unwatched one finishes first, then the watched one.
      await waitFor(
        async () => gates.size,
        (n) => n === 2,
      );
      gates.get("unwatched")?.();
      await waitFor(
        async () => (await getExecution(unwatched, viewer, fresh.handle.db))?.status,
        (s) => s === "SUCCESS",
      );
      const before = changes;
      gates.get("watched")?.();
      await waitFor(
        async () => changes,
        (n) => n > before,
      );
      expect(await read()).toMatchObject({
        status: "SUCCESS",
        sofar: 4,
        totalwork: 4,
        title: "Gated work watched",
      });
      // Notifications arrive in commit order: the watched end came after the unwatched end, which sent none.
      await waitFor(async () => seen.includes(String(watched)), Boolean);
      expect(seen).not.toContain(String(unwatched));
      await unwatch();
      expect(await fresh.handle.db.$count(executionWatchers)).toBe(0);
    } finally {
      await unlisten();
    }
  });
});
