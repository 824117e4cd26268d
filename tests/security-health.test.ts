// /api/health is honest about workers (SPEC H10): due work with no live worker is not "ok".
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executions, users, workerProcesses } from "@/db/schema";
import { getHealth } from "@/lib/health";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

describe("health", () => {
  let fresh: FreshDatabase;
  const lease = { leaseSeconds: 15 };

  beforeAll(async () => {
    fresh = await freshDatabase("security_health");
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  it("is ok with nothing due, and not ok once work waits with no worker alive", async () => {
    const db = fresh.handle.db;
    expect(await getHealth(lease, db)).toMatchObject({ ok: true, liveWorkers: 0 });
    const [bo] = await db.select().from(users).limit(1);
    await db
      .insert(executions)
      .values({ chainName: "health.check", userId: bo!.id, sessionId: "s", input: {} });
    expect(await getHealth(lease, db)).toMatchObject({
      ok: false,
      workDue: { executions: 1 },
      liveWorkers: 0,
    });

    // A worker that stopped beating 20 s ago (longer than the 15 s lease) does not count.
    await db.insert(workerProcesses).values({
      id: "w-stale",
      kind: "worker",
      hostname: "h",
      pid: 1,
      heartbeatAt: sql`now() - interval '20 seconds'`,
    });
    const stale = await getHealth(lease, db);
    expect(stale).toMatchObject({ ok: false, liveWorkers: 0 });
    expect(stale.lastHeartbeatSecondsAgo).toBeGreaterThanOrEqual(20);

    await db.insert(workerProcesses).values({ id: "w-live", kind: "worker", hostname: "h", pid: 2 });
    expect(await getHealth(lease, db)).toMatchObject({ ok: true, liveWorkers: 1 });
  });
});
