import { eq, like } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { type Execution, executionSchedules, executions, users } from "@/db/schema";
import { seedDatabase } from "@/db/seed";
import {
  ChainInputError,
  defineChain,
  defineSchedule,
  executionsConsumer,
  listSchedules,
  runInBackground,
} from "@/lib/chains";
import { fireSchedule } from "@/lib/chains/sql/fire-schedules";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
// Schedules on: the suite turns them off everywhere else (tests/support/setup-env.ts).
const fast = { leaseMs: 2_000, pollMs: 50, progressMs: 30, schedules: true };

const tick = defineChain<{ label: string }>({
  name: "test.schedule.tick",
  title: (input) => `Tick ${input.label}`,
  steps: [{ name: "Tick", run: () => {} }],
});

describe("delayed runs and cron schedules", () => {
  let fresh: FreshDatabase;
  let other: DatabaseHandle;
  let bo: { id: number; username: string };
  let host: WorkerHost;

  const row = async (id: number): Promise<Execution> => {
    const [found] = await fresh.handle.db.select().from(executions).where(eq(executions.id, id));
    if (!found) throw new Error(`no execution ${id}`);
    return found;
  };

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_schedule");
    other = createDatabase({ url: fresh.url, maxConnections: 2 });
    const [found] = await fresh.handle.db.select().from(users).where(eq(users.username, "bo"));
    bo = { id: found!.id, username: found!.username };
    // This host fires no schedules: the tests below take slots by hand, at chosen times.
    host = new WorkerHost(fresh.handle, "worker", quiet).register(
      executionsConsumer({ ...fast, schedules: false }),
    );
    await host.start();
  });

  afterAll(async () => {
    await host.stop(1_000);
    await other.close();
    await fresh.drop();
  });

  it("a delayed run waits SCHEDULED until its time, then runs", async () => {
    const before = Date.now();
    const id = await runInBackground(
      tick,
      { label: "later" },
      { user: bo, db: fresh.handle.db, delayMs: 700 },
    );
    const waiting = await row(id);
    expect(waiting).toMatchObject({ status: "SCHEDULED", title: "Tick later" });
    expect(waiting.runAt!.getTime()).toBeGreaterThanOrEqual(before + 600);
    const ended = await waitFor(
      () => row(id),
      (r) => r.status === "SUCCESS",
    );
    expect(ended.status).toBe("SUCCESS");
    expect(ended.startedAt!.getTime()).toBeGreaterThanOrEqual(waiting.runAt!.getTime());

    const at = await runInBackground(
      tick,
      { label: "at" },
      {
        user: bo,
        db: fresh.handle.db,
        runAt: new Date(Date.now() + 60_000),
      },
    );
    expect((await row(at)).status).toBe("SCHEDULED");
    const now = await runInBackground(
      tick,
      { label: "past" },
      { user: bo, db: fresh.handle.db, runAt: new Date(0) },
    );
    expect((await row(now)).status).not.toBe("SCHEDULED");
  });

  it("refuses a run time that makes no sense with a clear error", async () => {
    const run = (options: { delayMs?: number; runAt?: Date }) =>
      runInBackground(tick, { label: "x" }, { user: bo, db: fresh.handle.db, ...options });
    await expect(run({ delayMs: -5 })).rejects.toThrow(ChainInputError);
    await expect(run({ delayMs: 5, runAt: new Date() })).rejects.toThrow("give runAt or delayMs, not both");
    await expect(run({ runAt: new Date("nonsense") })).rejects.toThrow("runAt must be a valid date");
    await expect(run({ delayMs: 400 * 24 * 3600 * 1000 })).rejects.toThrow("delayed by a year at most");
  });

  it("fires each slot exactly once across processes, catches up one missed slot at most, as a system execution", async () => {
    const schedule = defineSchedule({
      name: "test.every-second",
      cron: "* * * * * *",
      chain: tick,
      input: { label: "cron" },
    });
    // 100 ms into a whole second, so that +1,000 and +1,500 ms fall in the same one-second slot.
    const start = new Date(Math.floor(Date.now() / 1000) * 1000 + 100);
    // First sight: the schedule did not exist at earlier slots, so nothing is caught up.
    expect(await fireSchedule(fresh.handle.db, schedule, start)).toBeNull();
    const later = (ms: number) => new Date(start.getTime() + ms);

    // Two processes (separate connections) reach the same slot together: one execution.
    const both = await Promise.all([
      fireSchedule(fresh.handle.db, schedule, later(1_000)),
      fireSchedule(other.db, schedule, later(1_000)),
    ]);
    expect(both.filter((id) => id !== null)).toHaveLength(1);
    expect(await fireSchedule(other.db, schedule, later(1_500))).toBeNull();

    // Down for ten slots: only the latest missed one runs.
    const caughtUp = await fireSchedule(fresh.handle.db, schedule, later(11_000));
    expect(caughtUp).not.toBeNull();
    expect(await fireSchedule(fresh.handle.db, schedule, later(11_200))).toBeNull();

    const fired = await fresh.handle.db
      .select()
      .from(executions)
      .where(like(executions.sessionId, "schedule:test.every-second:%"))
      .orderBy(executions.id);
    expect(fired).toHaveLength(2);
    const slotOf = (ms: number) => new Date(Math.floor(later(ms).getTime() / 1000) * 1000).toISOString();
    expect(fired.map((e) => e.sessionId)).toEqual([
      `schedule:test.every-second:${slotOf(1_000)}`,
      `schedule:test.every-second:${slotOf(11_000)}`,
    ]);
    expect(fired[0]).toMatchObject({ userId: null, title: "Tick cron" });
    const ended = await waitFor(
      () => row(caughtUp!),
      (r) => r.status === "SUCCESS",
    );
    expect(ended.status).toBe("SUCCESS");

    // The admin page's data: last slot with its execution, and the next slot.
    const [view] = (await listSchedules(fresh.handle.db, later(11_200))).filter(
      (s) => s.name === schedule.name,
    );
    expect(view).toMatchObject({
      title: "Tick cron",
      cron: "* * * * * *",
      timezone: "UTC",
      lastSlot: slotOf(11_000),
      lastExecutionId: caughtUp,
      lastStatus: "SUCCESS",
      nextSlot: slotOf(12_000),
    });
  });

  it("a worker fires declared schedules by itself", async () => {
    const schedule = defineSchedule({
      name: "test.worker-fired",
      cron: "* * * * * *",
      chain: tick,
      input: { label: "worker" },
    });
    const firing = new WorkerHost(other, "worker", quiet).register(
      executionsConsumer({ ...fast, maxConcurrent: 0 }),
    );
    await firing.start();
    try {
      const fired = await waitFor(
        () =>
          fresh.handle.db
            .select()
            .from(executions)
            .where(like(executions.sessionId, "schedule:test.worker-fired:%")),
        (rows) => rows.length >= 2,
        15_000,
      );
      expect(fired.length).toBeGreaterThanOrEqual(2);
      expect(new Set(fired.map((e) => e.sessionId)).size).toBe(fired.length);
      const [recorded] = await fresh.handle.db
        .select()
        .from(executionSchedules)
        .where(eq(executionSchedules.name, schedule.name));
      expect(recorded?.lastExecutionId).not.toBeNull();
    } finally {
      await firing.stop(1_000);
    }
  });

  it("refuses a bad cron expression or time zone when the schedule is declared", () => {
    expect(() =>
      defineSchedule({ name: "test.bad", cron: "every day", chain: tick, input: { label: "x" } }),
    ).toThrow(/invalid cron "every day"/);
    expect(() =>
      defineSchedule({
        name: "test.bad",
        cron: "0 * * * *",
        chain: tick,
        input: { label: "x" },
        timezone: "Mars/Base",
      }),
    ).toThrow('unknown time zone "Mars/Base"');
  });
});

describe("schedules on the embedded database", () => {
  it("fire from the in-process worker of the PGlite database", async () => {
    const handle = createDatabase({ pgliteDataDir: "memory://" });
    await migrateDatabase(handle);
    await seedDatabase(handle.db, "demo");
    defineSchedule({
      name: "test.pglite-fired",
      cron: "* * * * * *",
      chain: tick,
      input: { label: "pglite" },
    });
    const host = new WorkerHost(handle, "web", quiet).register(executionsConsumer(fast));
    await host.start();
    try {
      const fired = await waitFor(
        () =>
          handle.db
            .select()
            .from(executions)
            .where(like(executions.sessionId, "schedule:test.pglite-fired:%")),
        (rows) => rows.some((r) => r.status === "SUCCESS"),
        20_000,
      );
      expect(fired.some((r) => r.status === "SUCCESS" && r.userId === null)).toBe(true);
    } finally {
      await host.stop(1_000);
      await handle.close();
    }
  }, 180_000);
});
