// Fault injection against real worker processes (SPEC Q3, issue 8): the push service down while 10,000
// notifications wait, a worker SIGKILLed in the middle of a push batch, and every PostgreSQL backend
// terminated while work runs. Each case checks that nothing is lost, nothing stays stuck, and duplicates
// stay within the documented at-least-once bound.
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { intArray, queryRows } from "@/db/client";
import { executions, pushMessages, pushSubscriptions, users } from "@/db/schema";
import { runInBackground } from "@/lib/chains";
import { waitChain } from "@/lib/chains/builtin";
import { ensureVapidCredentials, getVapidPublicKey } from "@/lib/push/credentials";
import { sendPushNotification } from "@/lib/push/send";
import { saveSubscription, subscriptionInputSchema } from "@/lib/push/subscriptions";
import { PushDouble } from "../e2e/support/push-double";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";
import { startWorkerProcess, type WorkerProcess, workerStarted } from "./support/worker-process";

const PUSH_PORT = 4551;
/** Push-sender jobs one worker process has in flight: max(16, WORKER_CONCURRENCY × 16), with 2 below. */
const PUSH_IN_FLIGHT = 32;

describe("faults injected into running workers", () => {
  let fresh: FreshDatabase;
  let bo: { id: number; username: string };
  const workers: WorkerProcess[] = [];
  const doubles: PushDouble[] = [];

  const startWorker = (overrides: Record<string, string> = {}) => {
    const worker = startWorkerProcess({
      DATABASE_URL: fresh.url,
      // The secret that sealed the VAPID private key in this database (tests/support/setup-env.ts).
      NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? "",
      PUSH_ENDPOINT_ALLOWLIST: `localhost:${PUSH_PORT}`,
      WORKER_CONCURRENCY: "2",
      BACKGROUND_LEASE_SECONDS: "1",
      BACKGROUND_MAX_CONCURRENT: "4",
      ...overrides,
    });
    workers.push(worker);
    return worker;
  };
  const startDouble = async (takeOver?: PushDouble) => {
    const double = await PushDouble.start({ port: PUSH_PORT });
    // A restarted push service still knows its subscriptions.
    for (const [id, subscription] of takeOver?.subscriptions ?? [])
      double.subscriptions.set(id, subscription);
    doubles.push(double);
    return double;
  };
  const statusCounts = async () =>
    Object.fromEntries(
      (
        await queryRows<{ status: string; count: number }>(
          fresh.handle.db,
          sql`select status, count(*)::int as count from push_messages group by status`,
        )
      ).map((row) => [row.status, row.count]),
    ) as Record<string, number>;
  /** Deliveries per queue row, from the Topic header (`m<id>`) the double saw on each decrypted message. */
  const deliveriesPerMessage = (double: PushDouble[]) => {
    const counts = new Map<string, number>();
    for (const message of double.flatMap((d) => d.messages)) {
      const topic = message.headers.topic ?? "";
      counts.set(topic, (counts.get(topic) ?? 0) + 1);
    }
    return counts;
  };

  beforeAll(async () => {
    fresh = await freshDatabase("an_faults", 4);
    await ensureVapidCredentials(fresh.handle.db);
    const [found] = await fresh.handle.db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(eq(users.username, "bo"));
    bo = found!;
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited));
    for (const double of doubles) await double.close().catch(() => {});
    await fresh?.drop();
  });

  it("a worker whose secret cannot open the VAPID key says so on the queue row and backs off", async () => {
    const double = await startDouble();
    const subscription = double.createSubscription(await getVapidPublicKey(fresh.handle.db));
    await saveSubscription(
      { userId: bo.id, input: subscriptionInputSchema.parse(subscription), userAgent: "Android Chrome" },
      fresh.handle.db,
    );
    const wrong = startWorker({ NEXTAUTH_SECRET: "a-different-secret-a-different-secret-01" });
    await workerStarted(wrong);
    const { messageIds } = await sendPushNotification(
      { userName: "bo", title: "Wrong secret", targetUrl: "/" },
      fresh.handle.db,
    );
    const [row] = await waitFor(
      () => fresh.handle.db.select().from(pushMessages).where(eq(pushMessages.id, messageIds[0]!)),
      ([r]) => r?.status === "queued" && r.lastError !== null,
      10_000,
    );
    expect(row).toMatchObject({ status: "queued", attempts: 1 });
    expect(row?.lastError).toContain("NEXTAUTH_SECRET");
    wrong.kill("SIGTERM");
    await wrong.exited;
    await fresh.handle.db.delete(pushMessages);
    await fresh.handle.db.delete(pushSubscriptions);
    await double.close();
  }, 60_000);

  it("10,000 notifications queued while the push service is down, a worker SIGKILLed mid-batch: all delivered, duplicates bounded", async () => {
    // 100 devices × 100 notifications = 10,000 queue rows.
    const first = await startDouble();
    const key = await getVapidPublicKey(fresh.handle.db);
    for (let i = 0; i < 100; i++) {
      const subscription = first.createSubscription(key);
      await saveSubscription(
        {
          userId: bo.id,
          input: subscriptionInputSchema.parse(subscription),
          userAgent: "Android Chrome",
          // A hundred devices of one user: past the app's cap of 20 on purpose (a load test).
          maxDevices: 100,
        },
        fresh.handle.db,
      );
    }
    await first.close(); // the push service goes down: connections are refused

    const killed = startWorker();
    await workerStarted(killed);
    for (let n = 0; n < 100; n++) {
      const { queued } = await sendPushNotification(
        { userName: "bo", title: `Batch ${n}`, body: "While the push service is down.", targetUrl: "/" },
        fresh.handle.db,
      );
      expect(queued).toBe(100);
    }
    // Every row is tried and refused at least once, and stays queued for a retry: nothing is dropped.
    const tried = await waitFor(
      () =>
        queryRows<{ tried: number; failed: number }>(
          fresh.handle.db,
          sql`select count(*) filter (where attempts >= 1 and status = 'queued' and last_error is not null)::int
                       as tried,
                     count(*) filter (where status = 'failed')::int as failed from push_messages`,
        ),
      (rows) => rows[0]!.tried === 10_000,
      60_000,
    );
    expect(tried[0]).toEqual({ tried: 10_000, failed: 0 });

    // The push service comes back; the worker is SIGKILLed in the middle of delivering.
    const second = await startDouble(first);
    await waitFor(
      async () => second.messages.length,
      (n) => n >= 2_000,
      90_000,
    );
    killed.kill("SIGKILL");
    await killed.exited;
    const deliveredBeforeKill = second.messages.length;
    expect(deliveredBeforeKill, killed.output().slice(-2_000)).toBeGreaterThanOrEqual(2_000);
    expect(deliveredBeforeKill).toBeLessThan(10_000);

    // A replacement takes over, the dead worker's leased rows once their lease (30 s) has expired.
    const replacement = startWorker();
    await workerStarted(replacement);
    const counts = await waitFor(statusCounts, (c) => c.sent === 10_000, 150_000);
    expect(counts).toEqual({ sent: 10_000 });

    const rows = await queryRows<{ id: number }>(fresh.handle.db, sql`select id from push_messages`);
    const perMessage = deliveriesPerMessage(doubles);
    const missing = rows.filter((row) => !perMessage.has(`m${row.id}`));
    expect(missing).toEqual([]);
    const duplicates = [...perMessage.values()].reduce((sum, n) => sum + (n - 1), 0);
    // At-least-once: only messages in flight in the killed worker (sent, not yet recorded) can go twice.
    expect(duplicates).toBeLessThanOrEqual(PUSH_IN_FLIGHT);
    expect(second.rejections).toEqual([]);
    console.log(
      `10,000 delivered after the outage; ${deliveredBeforeKill} before the SIGKILL, ${duplicates} duplicate(s)`,
    );
  }, 300_000);

  it("PostgreSQL backends terminated while work runs: workers reconnect and carry on", async () => {
    // Its own worker, push service and devices, whatever ran before.
    for (const running of workers) if (running.child.exitCode === null) running.kill("SIGKILL");
    await Promise.all(workers.map((running) => running.exited));
    for (const previous of doubles) await previous.close().catch(() => {});
    await fresh.handle.db.delete(pushMessages);
    await fresh.handle.db.delete(pushSubscriptions);
    const double = await startDouble();
    const key = await getVapidPublicKey(fresh.handle.db);
    for (let i = 0; i < 3; i++) {
      await saveSubscription(
        {
          userId: bo.id,
          input: subscriptionInputSchema.parse(double.createSubscription(key)),
          userAgent: "Android Chrome",
        },
        fresh.handle.db,
      );
    }
    const worker = startWorker();
    await workerStarted(worker);
    const enqueue = (steps: number, stepMs: number) =>
      runInBackground(waitChain, { steps, stepMs }, { user: bo, session: "faults", db: fresh.handle.db });

    const running = [await enqueue(40, 50), await enqueue(40, 50)];
    await waitFor(
      () => fresh.handle.db.select().from(executions).where(eq(executions.id, running[0]!)),
      ([row]) => row?.status === "EXECUTING" && (row.sofar ?? 0) >= 3,
      20_000,
    );
    await sendPushNotification({ userName: "bo", title: "Before", targetUrl: "/" }, fresh.handle.db);

    // Drop every connection to this database (the worker's pool, its LISTEN connection, and ours).
    const terminated = await queryRows<{ pid: number; terminated: boolean }>(
      fresh.handle.db,
      sql`select pid, pg_terminate_backend(pid) as terminated from pg_stat_activity
          where datname = current_database() and pid <> pg_backend_pid()`,
    );
    expect(terminated.length).toBeGreaterThan(0);
    // The old connections are gone before ours goes too.
    const pids = terminated.map((row) => row.pid);
    await waitFor(
      () =>
        queryRows<{ left: number }>(
          fresh.handle.db,
          sql`select count(*)::int as left from pg_stat_activity where pid = any(${intArray(pids)})`,
        ),
      ([row]) => row?.left === 0,
    );
    const [self] = await queryRows<{ pid: number }>(fresh.handle.db, sql`select pg_backend_pid() as pid`);
    await fresh.handle.db.execute(sql`select pg_terminate_backend(${self!.pid})`).catch(() => {});

    // New work after the outage is done by the same worker process.
    const after = [await enqueue(3, 10), await enqueue(3, 10)];
    await sendPushNotification({ userName: "bo", title: "After", targetUrl: "/" }, fresh.handle.db);
    const ids = [...running, ...after];
    const finished = await waitFor(
      () => fresh.handle.db.select().from(executions).where(sql`${executions.id} in ${ids}`),
      (list) => list.length === 4 && list.every((r) => ["SUCCESS", "FAILED"].includes(r.status)),
      60_000,
    );
    expect(finished.map((r) => r.status).sort()).not.toContain("EXECUTING");
    expect(
      finished.filter((r) => after.includes(r.id)).map((r) => r.status),
      worker.output().slice(-2_000),
    ).toEqual(["SUCCESS", "SUCCESS"]);
    // Rows whose outcome could not be recorded before the drop are re-recorded once connected again.
    const counts = await waitFor(statusCounts, (c) => !c.queued && !c.sending, 20_000);
    expect(counts.queued ?? 0).toBe(0);
    expect(counts.sending ?? 0).toBe(0);
    const titles = double.messages.map((m) => JSON.parse(m.payload).notification.title as string);
    expect(titles.filter((t) => t === "After")).toHaveLength(3);
    expect(titles.filter((t) => t === "Before").length).toBeGreaterThanOrEqual(3);
    expect(worker.child.exitCode, worker.output().slice(-2_000)).toBeNull();
  }, 120_000);
});
