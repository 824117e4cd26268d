import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import {
  departmentProcessing,
  departments,
  type Execution,
  executions,
  pushMessages,
  pushPayloads,
  pushSubscriptions,
  users,
} from "@/db/schema";
import { abortExecution, runChain } from "@/lib/chains";
import { executionsConsumer } from "@/lib/chains/consumer";
import { saveAndProcess } from "@/lib/departments/chains";
import {
  deleteDepartment,
  getProcessingHistory,
  getProcessingUser,
  listProcessingStatus,
} from "@/lib/departments/queries";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };

describe("Save and Process (departments demo)", () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let steve: { id: number; username: string };
  let pat: { id: number; username: string };
  let host: WorkerHost | null = null;

  beforeAll(async () => {
    fresh = await freshDatabase("demos_departments");
    handle = fresh.handle;
    const all = await handle.db.select().from(users);
    const find = (name: string) => {
      const user = all.find((candidate) => candidate.username === name);
      if (!user) throw new Error(name);
      return { id: user.id, username: user.username };
    };
    steve = find("steve");
    pat = find("pat");
  });
  afterEach(async () => {
    // Leave nothing running for the next test's worker.
    const active = await handle.db
      .select({ id: executions.id })
      .from(executions)
      .where(inArray(executions.status, ["ENQUEUED", "SCHEDULED", "EXECUTING"]));
    for (const { id } of active)
      await abortExecution({ id, by: { userId: steve.id, mayAbortAny: true } }, handle.db);
    await waitFor(
      () => handle.db.$count(executions, inArray(executions.status, ["SCHEDULED", "EXECUTING"])),
      (running) => running === 0 || host === null,
    );
    await host?.stop();
    host = null;
    await handle.db.delete(departmentProcessing);
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  async function startHost() {
    host = new WorkerHost(handle, "worker", quiet).register(
      executionsConsumer({ leaseMs: 2_000, pollMs: 100, progressMs: 30 }),
    );
    await host.start();
  }
  const process = (
    user: { id: number; username: string },
    deptno: number,
    seconds = 0.5,
    dname = "RESEARCH",
  ) =>
    runChain(
      saveAndProcess,
      { deptno, dname, loc: "DALLAS", seconds },
      { user, sessionId: `session-${user.username}`, db: handle.db },
    );
  async function execution(id: number): Promise<Execution> {
    const [row] = await handle.db.select().from(executions).where(eq(executions.id, id));
    if (!row) throw new Error(`no execution ${id}`);
    return row;
  }
  const finished = (id: number) =>
    waitFor(
      () => execution(id),
      (row) => ["SUCCESS", "FAILED", "ABORTED"].includes(row.status),
      15_000,
    );

  it("of two users racing for one department exactly one wins; the other is told who has it", async () => {
    const [a, b] = await Promise.all([process(steve, 20, 60), process(pat, 20, 60)]);
    const winners = [a, b].filter((state) => state.executionId !== undefined);
    const losers = [a, b].filter((state) => state.error);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(1);
    const winner = winners[0] === a ? "STEVE" : "PAT";
    expect(winners[0]?.message).toBe("Department 20 submitted for processing.");
    expect(losers[0]?.error).toBe(`Department 20 is already being processed by ${winner}`);
    expect((await handle.db.select().from(departmentProcessing)).map((row) => row.deptno)).toEqual([20]);
    await abortExecution(
      { id: winners[0]?.executionId ?? 0, by: { userId: steve.id, mayAbortAny: true } },
      handle.db,
    );
  });

  it("a second attempt gets the already-processing message and saves nothing", async () => {
    const first = await process(steve, 30, 60, "SALES");
    expect(first.message).toBe("Department 30 submitted for processing.");
    const second = await process(pat, 30, 60, "CHANGED");
    expect(second.error).toBe("Department 30 is already being processed by STEVE");
    expect(second.executionId).toBeUndefined();
    const [dept] = await handle.db.select().from(departments).where(eq(departments.deptno, 30));
    expect(dept?.dname).toBe("SALES");
    expect(await deleteDepartment({ deptno: 30 }, handle.db)).toBe("processing");
    const status = await listProcessingStatus(handle.db);
    expect(status.find((row) => row.deptno === 30)).toMatchObject({ username: "steve", status: "ENQUEUED" });
  });

  /** Titles of the pushes queued for a user's devices (the sender does not run here). */
  const pushTitles = async (userId: number) =>
    (
      await handle.db
        .select({ title: pushPayloads.title, targetUrl: pushPayloads.targetUrl })
        .from(pushMessages)
        .innerJoin(pushPayloads, eq(pushPayloads.id, pushMessages.payloadId))
        .where(eq(pushMessages.userId, userId))
    ).map((row) => `${row.title} → ${row.targetUrl}`);

  it("saves the changes, processes in 10 steps and unregisters on completion; history averages it", async () => {
    await handle.db
      .insert(pushSubscriptions)
      .values({ userId: steve.id, endpoint: "https://push.example.test/steve", p256dh: "k", auth: "a" })
      .onConflictDoNothing();
    await startHost();
    const state = await process(steve, 10, 0.5, "accounts");
    const done = await finished(state.executionId ?? 0);
    expect(done.status).toBe("SUCCESS");
    // The human title every page shows, not the code id.
    expect(done.title).toBe("Process department 10");
    expect(done.sofar).toBe(10);
    expect(done.totalwork).toBe(10);
    const [dept] = await handle.db.select().from(departments).where(eq(departments.deptno, 10));
    expect(dept?.dname).toBe("ACCOUNTS");
    expect(await getProcessingUser({ deptno: 10 }, handle.db)).toBeNull();
    expect(await handle.db.select().from(departmentProcessing)).toEqual([]);
    const history = await getProcessingHistory(handle.db);
    expect(history.runs).toBeGreaterThanOrEqual(1);
    expect(history.averageRunningSeconds).toBeGreaterThan(0.3);
    expect(history.averageWaitSeconds).not.toBeNull();
    expect(history.recent.at(-1)).toMatchObject({ deptno: 10, username: "steve" });
    // The starter is told, from the chain's last step (D5).
    expect(await pushTitles(steve.id)).toContainEqual(
      expect.stringMatching(/^Department 10 processed → \S*\/processing\/history$/),
    );
  });

  it("unregisters when the execution is aborted while running", async () => {
    await startHost();
    const state = await process(steve, 40, 30, "OPERATIONS");
    const id = state.executionId ?? 0;
    await waitFor(
      () => execution(id),
      (row) => row.status === "EXECUTING" && (row.sofar ?? -1) >= 0,
    );
    expect(await getProcessingUser({ deptno: 40 }, handle.db)).toBe("steve");
    await abortExecution({ id, by: { userId: steve.id, mayAbortAny: false } }, handle.db);
    expect((await finished(id)).status).toBe("ABORTED");
    expect(await handle.db.select().from(departmentProcessing)).toEqual([]);
    expect(await pushTitles(steve.id)).toContainEqual(
      expect.stringMatching(/^Department 40 processing aborted → \S*\/processing\/history$/),
    );
    expect((await process(pat, 40, 30, "OPERATIONS")).message).toBe(
      "Department 40 submitted for processing.",
    );
  });

  it("a department whose queued execution was aborted, or whose execution failed, is free again", async () => {
    const queued = await process(steve, 20, 30);
    await abortExecution(
      { id: queued.executionId ?? 0, by: { userId: steve.id, mayAbortAny: false } },
      handle.db,
    );
    expect(await getProcessingUser({ deptno: 20 }, handle.db)).toBeNull();

    const again = await process(pat, 20, 30);
    expect(again.message).toBe("Department 20 submitted for processing.");
    // The worker died mid-run: the execution ends FAILED without the chain unregistering.
    await handle.db
      .update(executions)
      .set({ status: "FAILED", error: "worker stopped", finishedAt: new Date() })
      .where(eq(executions.id, again.executionId ?? 0));
    expect(await getProcessingUser({ deptno: 20 }, handle.db)).toBeNull();
    expect((await process(steve, 20, 30)).message).toBe("Department 20 submitted for processing.");
  });

  it("a failing step unregisters too, and an unknown department is refused without registering", async () => {
    await startHost();
    const state = await runChain(
      saveAndProcess,
      { deptno: 10, dname: "ACCOUNTING", loc: "NEW YORK", seconds: 0.5, failAfterStep: 3 },
      { user: steve, sessionId: "session-steve", db: handle.db },
    );
    const done = await finished(state.executionId ?? 0);
    expect(done.status).toBe("FAILED");
    expect(done.error).toBe("Processing failed after step 3");
    expect(await handle.db.select().from(departmentProcessing)).toEqual([]);

    const missing = await process(pat, 77, 1);
    expect(missing.error).toBe("Department 77 does not exist.");
    expect(missing.executionId).toBeUndefined();
    expect(await handle.db.select().from(departmentProcessing)).toEqual([]);
  });

  it("a save the database refuses: a plain sentence, and the department is not left locked", async () => {
    // PostgreSQL refusing the update (here a constraint of the test's own) is what a NUL used to do.
    await handle.db.execute(
      sql`alter table departments add constraint refuse_for_test check (dname <> 'BROKEN')`,
    );
    try {
      const state = await process(steve, 20, 30, "BROKEN").catch((error: unknown) => ({
        error: `thrown: ${String(error)}`,
        executionId: undefined,
      }));
      expect(await getProcessingUser({ deptno: 20 }, handle.db)).toBeNull();
      expect(state.error).toBe("Department 20 could not be saved. Try again in a moment.");
      expect(state.executionId).toBeUndefined();
    } finally {
      await handle.db.execute(sql`alter table departments drop constraint refuse_for_test`);
    }
    // Free at once for the next person.
    expect((await process(pat, 20, 30)).message).toBe("Department 20 submitted for processing.");
  });

  it("Delete removes a free department; a user's Hide Process Button preference is stored", async () => {
    await handle.db.insert(departments).values({ deptno: 50, dname: "TEMP", loc: "NOWHERE" });
    expect(await deleteDepartment({ deptno: 50 }, handle.db)).toBe("deleted");
    expect(await deleteDepartment({ deptno: 50 }, handle.db)).toBe("not_found");

    const { updateUserPreferences } = await import("@/lib/users/preferences");
    expect(
      await updateUserPreferences({ userId: pat.id, changes: { hideProcessButton: true } }, handle.db),
    ).toEqual({
      hideProcessButton: true,
    });
    expect(
      await updateUserPreferences({ userId: pat.id, changes: { hideProcessButton: false } }, handle.db),
    ).toEqual({
      hideProcessButton: false,
    });
  });
});
