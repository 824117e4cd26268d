import { eq, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { workerProcesses } from "@/db/schema";
import type { LocalIntake } from "@/lib/worker/consumer";
import { WorkerHost } from "@/lib/worker/host";
import { listLiveWorkers } from "@/lib/worker/registry";
import { sleep, waitFor } from "./support/fresh-database";
import {
  createTestJobTable,
  enqueueTestJobs,
  insertLeasedTestJobs,
  type TestJob,
  testConsumer,
  testJobs,
} from "./support/test-consumer";

const quiet = { info: () => {}, error: () => {} };
describe("worker host on PostgreSQL", () => {
  let handle: DatabaseHandle;
  let other: DatabaseHandle;
  const hosts: WorkerHost[] = [];

  function startHost(consumer: ReturnType<typeof testConsumer>, on: DatabaseHandle = handle) {
    const host = new WorkerHost(on, "worker", quiet).register(consumer);
    hosts.push(host);
    return host.start().then(() => host);
  }

  /** Queues one job, waits until it runs, then takes its lease away as another worker would. */
  async function runOneAndTakeItsLease() {
    await enqueueTestJobs(handle.db, 1);
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "running",
    );
    await handle.db.execute(sql`update host_test_jobs set lease_owner = 'someone-else'`);
  }

  beforeAll(async () => {
    handle = createDatabase({ url: inject("databaseUrl"), maxConnections: 4 });
    other = createDatabase({ url: inject("databaseUrl"), maxConnections: 4 });
  });

  beforeEach(async () => {
    await createTestJobTable(handle.db);
  });

  afterEach(async () => {
    await Promise.all(hosts.splice(0).map((host) => host.stop(2_000)));
  });

  afterAll(async () => {
    await handle.close();
    await other.close();
  });

  it("runs committed work when NOTIFY arrives, without waiting for a poll", async () => {
    // A one-minute poll: only the notification can explain a quick pick-up.
    // start() resolves once its LISTEN is in place.
    await startHost(testConsumer({ pollMs: 60_000 }));
    await enqueueTestJobs(handle.db, 5);
    const jobs = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows.every((row) => row.status === "done"),
      5_000,
    );
    expect(jobs.map((job) => job.status)).toEqual(Array(5).fill("done"));
    for (const job of jobs) expect(job.latency_ms).toBeLessThan(2_000);
  });

  it("falls back to polling when no notification is sent", async () => {
    await startHost(testConsumer({ pollMs: 200 }));
    await enqueueTestJobs(handle.db, 3, { wake: false });
    const jobs = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows.every((row) => row.status === "done"),
    );
    expect(jobs.every((job) => job.status === "done")).toBe(true);
  });

  it("never runs a job twice when two hosts compete (SKIP LOCKED)", async () => {
    const work = () => sleep(2);
    await startHost(testConsumer({ concurrency: 8, work }), handle);
    await startHost(testConsumer({ concurrency: 8, work }), other);
    await enqueueTestJobs(handle.db, 300);
    const jobs = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows.every((row) => row.status === "done"),
      20_000,
    );
    expect(jobs).toHaveLength(300);
    expect(jobs.every((job) => job.status === "done" && job.attempts === 1 && job.done_by.length === 1)).toBe(
      true,
    );
    const workers = new Set(jobs.map((job) => job.done_by[0]));
    expect(workers.size).toBe(2);
  });

  it("keeps a long job's lease alive with heartbeats so nobody else takes it", async () => {
    const lease = { leaseMs: 300, pollMs: 100 };
    await startHost(testConsumer({ ...lease, work: () => sleep(1_500) }));
    await enqueueTestJobs(handle.db, 1);
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "running",
    );
    await startHost(testConsumer(lease), other);
    const [job] = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "done",
    );
    expect(job?.attempts).toBe(1);
    expect(job?.done_by).toHaveLength(1);
  });

  it("takes over the work of a worker that died once its lease expires", async () => {
    await enqueueTestJobs(handle.db, 2, { wake: false });
    // A worker claims both jobs and dies without finishing or renewing them.
    const dead = testConsumer({ leaseMs: 300 });
    await dead.claim(handle.db, { workerId: "worker:dead", limit: 2, leaseMs: 300 });
    const host = await startHost(testConsumer({ pollMs: 100 }));
    const jobs = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows.every((row) => row.status === "done"),
    );
    expect(jobs.map((job) => [job.status, job.attempts, job.done_by])).toEqual([
      ["done", 2, [host.id]],
      ["done", 2, [host.id]],
    ]);
  });

  it("aborts a job whose lease was taken away", async () => {
    let aborted = false;
    const host = await startHost(
      testConsumer({
        leaseMs: 300,
        work: async (_job, ctx) => {
          await new Promise<void>((resolve) => {
            ctx.signal.addEventListener("abort", () => resolve());
            setTimeout(resolve, 3_000);
          });
          aborted = ctx.signal.aborted;
        },
      }),
    );
    await runOneAndTakeItsLease();
    await waitFor(
      async () => aborted,
      (value) => value,
      3_000,
    );
    expect(aborted).toBe(true);
    const inFlight = await waitFor(
      async () => host.status().consumers[0]?.inFlight,
      (value) => value === 0,
    );
    expect(inFlight).toBe(0);
  });

  it("a job that looks at its signal only after its lease was taken sees it aborted, with the reason", async () => {
    let reason: unknown;
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    await startHost(
      testConsumer({
        leaseMs: 300,
        work: async (_job, ctx) => {
          await released;
          reason = ctx.signal.aborted ? (ctx.signal.reason as Error).message : "not aborted";
        },
        // The job looks once the host has acted on a renewal that lost its lease (after its microtasks).
        renewed: (kept) => {
          if (kept.length === 0) setImmediate(release);
        },
      }),
    );
    await runOneAndTakeItsLease();
    await waitFor(
      async () => reason,
      (value) => value !== undefined,
      3_000,
    );
    expect(reason).toBe("lease lost");
  });

  it("stays idle, not spinning, while at capacity and notified", async () => {
    await startHost(testConsumer({ concurrency: 1, work: () => sleep(800) }));
    await enqueueTestJobs(handle.db, 2);
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "running",
    );
    const before = process.cpuUsage();
    const started = Date.now();
    for (let i = 0; i < 5; i++) await enqueueTestJobs(handle.db, 0);
    // Measured until the slot frees and the second job starts (the first one's 800 ms of work).
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[1]?.status !== "queued",
    );
    const used = process.cpuUsage(before);
    const waited = Date.now() - started;
    // A busy loop would burn the whole wait; waiting costs a few milliseconds.
    expect((used.user + used.system) / 1000).toBeLessThan(waited / 2);
  });

  it("registers itself while running and leaves cleanly on stop, finishing running work", async () => {
    const host = await startHost(testConsumer({ work: () => sleep(400) }));
    expect((await listLiveWorkers(handle.db)).map((worker) => worker.id)).toContain(host.id);
    await enqueueTestJobs(handle.db, 1);
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "running",
    );
    await host.stop(5_000);
    const [job] = await testJobs(handle.db);
    expect(job?.status).toBe("done");
    expect(await handle.db.$count(workerProcesses, eq(workerProcesses.id, host.id))).toBe(0);
    expect(host.status().running).toBe(false);
    // A stopped host claims nothing more: the next job is run by the host started after it.
    await enqueueTestJobs(handle.db, 1);
    const next = await startHost(testConsumer());
    const [, second] = await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[1]?.status === "done",
    );
    expect(second?.done_by).toEqual([next.id]);
  });

  it("hands unfinished work back when stopping past the grace period", async () => {
    const host = await startHost(testConsumer({ work: () => sleep(5_000) }));
    await enqueueTestJobs(handle.db, 1);
    await waitFor(
      () => testJobs(handle.db),
      (rows) => rows[0]?.status === "running",
    );
    await host.stop(100);
    const [job] = await testJobs(handle.db);
    expect(job?.status).toBe("queued");
    expect(job?.lease_owner).toBeNull();
  });

  describe("work made in its own process (LocalIntake)", () => {
    /** A host whose consumer's intake is kept, started and through its first (empty) claim. */
    async function hostWithIntake(options: Parameters<typeof testConsumer>[0] = {}) {
      let intake: LocalIntake<TestJob> | undefined;
      let claimsStarted = 0;
      const host = await startHost(
        testConsumer({
          ...options,
          started: (given) => {
            intake = given;
          },
          claiming: () => {
            claimsStarted += 1;
          },
        }),
      );
      const claims = () => host.status().consumers[0]?.claims ?? 0;
      await waitFor(
        async () => claims(),
        (count) => count >= 1,
      );
      if (!intake) throw new Error("the host did not offer its intake");
      return { host, intake, claimsStarted: () => claimsStarted };
    }

    it("runs jobs handed over without claiming them, in the slots it lent", async () => {
      const { host, intake, claimsStarted } = await hostWithIntake({ concurrency: 4 });
      expect(intake.workerId).toBe(host.id);
      expect(intake.reserve(10)).toBe(4);
      // Every slot is lent: nothing more until some are given back.
      expect(intake.reserve(1)).toBe(0);
      const jobs = await insertLeasedTestJobs(handle.db, host.id, 3);
      const claimsBefore = claimsStarted();
      intake.adopt(jobs, 4);
      const rows = await waitFor(
        () => testJobs(handle.db),
        (all) => all.length === 3 && all.every((row) => row.status === "done"),
      );
      expect(rows.map((row) => [row.status, row.attempts, row.done_by])).toEqual(
        Array(3).fill(["done", 1, [host.id]]),
      );
      expect(host.status().consumers[0]).toMatchObject({ adopted: 3, processed: 3 });
      // Their ends do not start claim rounds (nothing was due because of them): a claim would have started
      // in the microtasks right after the last one ended, long before this database round trip returned.
      expect(claimsStarted()).toBe(claimsBefore);
      expect(intake.reserve(10)).toBe(4);
      intake.adopt([], 4);
    });

    it("lends no slot while work waits in the table: the waiting work goes first", async () => {
      const releases = new Map<number, () => void>();
      const work = (job: TestJob) => new Promise<void>((resolve) => releases.set(job.id, resolve));
      // Claims of 3: with 1 slot free of 4 it waits for more before claiming the work still waiting.
      const { host, intake } = await hostWithIntake({ concurrency: 4, claimBatch: 3, pollMs: 100, work });
      await enqueueTestJobs(handle.db, 6);
      await waitFor(
        async () => releases.size,
        (running) => running === 4,
      );
      releases.get(Math.min(...releases.keys()))?.();
      await waitFor(
        async () => host.status().consumers[0]?.inFlight ?? 0,
        (inFlight) => inFlight === 3,
      );
      expect(intake.reserve(1)).toBe(0);
      // Drained: its last claim finds less than it could take, and slots are lent again.
      const releaseAll = setInterval(() => {
        for (const resolve of releases.values()) resolve();
      }, 20);
      try {
        await waitFor(
          () => testJobs(handle.db),
          (rows) => rows.every((row) => row.status === "done"),
        );
        const lent = await waitFor(
          async () => {
            const granted = intake.reserve(1);
            if (granted > 0) intake.adopt([], granted);
            return granted;
          },
          (granted) => granted === 1,
        );
        expect(lent).toBe(1);
      } finally {
        clearInterval(releaseAll);
      }
    });

    it("lends no slot a claim in progress may fill", async () => {
      // A slow claim every 200 ms (the poll): the slots it asked for are not free while it runs.
      const { intake, claimsStarted } = await hostWithIntake({
        concurrency: 4,
        pollMs: 200,
        claimDelayMs: 400,
      });
      const started = claimsStarted();
      await waitFor(
        async () => claimsStarted(),
        (count) => count > started,
      );
      expect(intake.reserve(4)).toBe(0);
    });

    it("claims the work a local write left waiting before lending again", async () => {
      // No NOTIFY and an hour's poll: only the hand-over can say that work waits.
      const { host, intake } = await hostWithIntake({ concurrency: 4, pollMs: 3_600_000 });
      expect(intake.reserve(2)).toBe(2);
      const leased = await insertLeasedTestJobs(handle.db, host.id, 2);
      await enqueueTestJobs(handle.db, 3, { wake: false });
      intake.adopt(leased, 2, true);
      expect(intake.reserve(1)).toBe(0);
      const rows = await waitFor(
        () => testJobs(handle.db),
        (all) => all.length === 5 && all.every((row) => row.status === "done"),
      );
      expect(rows.map((row) => row.status)).toEqual(Array(5).fill("done"));
      expect(host.status().consumers[0]).toMatchObject({ adopted: 2, processed: 5 });
    });

    it("stopping waits for jobs being written for it, hands them back and announces them", async () => {
      const { host, intake } = await hostWithIntake();
      // Another worker, polling once an hour: only the announcement can bring it the jobs.
      const next = await startHost(testConsumer({ pollMs: 3_600_000 }), other);
      expect(intake.reserve(2)).toBe(2);
      const jobs = await insertLeasedTestJobs(handle.db, host.id, 2);
      const stopping = host.stop(10_000);
      expect(intake.reserve(1)).toBe(0);
      // The write ends a round trip later, while stop() waits for it.
      await testJobs(handle.db);
      intake.adopt(jobs, 2);
      await stopping;
      // Handed back before stop() returned (the database may be closed right after it).
      const right = await testJobs(handle.db);
      expect(right.every((row) => row.lease_owner !== host.id)).toBe(true);
      const rows = await waitFor(
        () => testJobs(handle.db),
        (all) => all.every((row) => row.status === "done"),
      );
      expect(rows.map((row) => [row.status, row.done_by])).toEqual([
        ["done", [next.id]],
        ["done", [next.id]],
      ]);
      expect(host.status().consumers[0]?.adopted).toBe(0);
    });
  });
});

describe("worker host on the embedded database", () => {
  it("wakes on NOTIFY inside the single PGlite process", async () => {
    const handle = createDatabase({ pgliteDataDir: "memory://" });
    await migrateDatabase(handle);
    await createTestJobTable(handle.db);
    const host = new WorkerHost(handle, "web", quiet).register(testConsumer({ pollMs: 60_000 }));
    await host.start();
    try {
      await enqueueTestJobs(handle.db, 3);
      const jobs = await waitFor(
        () => testJobs(handle.db),
        (rows) => rows.every((row) => row.status === "done"),
        5_000,
      );
      expect(jobs.every((job) => job.status === "done")).toBe(true);
    } finally {
      await host.stop(1_000);
      await handle.close();
    }
  });
});
