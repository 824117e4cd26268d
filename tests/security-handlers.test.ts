// The route handlers and server actions themselves, called as Next.js calls them (SPEC H8, H9, H10): what a
// caller gets back, and what is left in the database. Only the session is supplied by the test (there is
// no cookie outside Next.js); the database is a real PostgreSQL one of this file's own.
import { randomBytes } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  dataLoads,
  departmentProcessing,
  departments,
  executions,
  pushMessages,
  pushSubscriptions,
  users,
  workerProcesses,
} from "@/db/schema";
import type { CurrentUser } from "@/lib/auth/guards";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const session = vi.hoisted(() => ({ user: null as CurrentUser | null }));

// The signed-in user; the handlers' own checks (roles, ownership, zod) run as in production.
vi.mock("@/lib/auth/guards", async (importOriginal) => ({
  ...(await importOriginal<typeof import("@/lib/auth/guards")>()),
  getCurrentUser: async () => session.user,
  getSessionId: async () => (session.user ? `session-${session.user.username}` : null),
}));
// Outside a Next.js request there is no page cache to revalidate.
vi.mock("next/cache", () => ({ revalidatePath: () => {} }));

const keys = () => ({
  p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
  auth: randomBytes(16).toString("base64url"),
});

describe("route handlers and actions", () => {
  let fresh: FreshDatabase;
  const people = new Map<string, CurrentUser>();
  const signInAs = (username: string) => {
    session.user = people.get(username) ?? null;
  };

  beforeAll(async () => {
    // The handlers use the process-wide database: this file's own, set before anything reads env.
    fresh = await freshDatabase("security_handlers");
    process.env.DATABASE_URL = fresh.url;
    for (const row of await fresh.handle.db.select().from(users)) {
      const { id, username, displayName, role, preferences } = row;
      people.set(username, { id, username, displayName, role, preferences });
    }
  });
  afterAll(async () => {
    const { getDatabase } = await import("@/db/client");
    await getDatabase().close();
    await fresh?.drop();
  });

  // First: the later tests queue work, and this one needs to start with none.
  it("GET /api/health answers 503 ok:false while work is due and no worker is alive", async () => {
    const { GET } = await import("@/app/api/health/route");
    signInAs("bo");
    const db = fresh.handle.db;
    const idle = await GET();
    expect(idle.status).toBe(200);
    expect(await idle.json()).toMatchObject({ ok: true, workers: { live: 0 } });

    await db
      .insert(executions)
      .values({ chainName: "health.check", userId: people.get("bo")!.id, sessionId: "s", input: {} });
    const stuck = await GET();
    expect(stuck.status).toBe(503);
    expect(await stuck.json()).toMatchObject({
      ok: false,
      error: "Work is waiting and no worker is running it.",
      workDue: { executions: 1 },
      workers: { live: 0 },
    });

    // A worker that beats: ok again, and its host name and pid are not shown to an employee.
    await db
      .insert(workerProcesses)
      .values({ id: "worker-secret-id", kind: "worker", hostname: "secret-host", pid: 4242 });
    const served = await GET();
    expect(served.status).toBe(200);
    const text = await served.text();
    expect(JSON.parse(text)).toMatchObject({ ok: true, workers: { live: 1 } });
    expect(text).not.toMatch(/secret-host|worker-secret-id|4242/);

    await db.delete(workerProcesses);
    await db.delete(executions);
  });

  it("POST /api/push/subscriptions: a known endpoint with other keys answers 409 with a JSON reason", async () => {
    const { POST } = await import("@/app/api/push/subscriptions/route");
    const post = (body: unknown) =>
      POST(
        new Request("http://localhost/api/push/subscriptions", {
          method: "POST",
          headers: { "content-type": "application/json", origin: "http://localhost" },
          body: JSON.stringify(body),
        }),
      );
    const endpoint = "https://localhost:4541/push/shared-device";
    const boKeys = keys();
    signInAs("bo");
    expect((await post({ endpoint, keys: boKeys })).status).toBe(201);

    signInAs("steve");
    const taken = await post({ endpoint, keys: keys() });
    expect(taken.status).toBe(409);
    expect(taken.headers.get("content-type")).toMatch(/^application\/json/);
    expect(await taken.json()).toMatchObject({
      ok: false,
      code: "endpoint_taken",
      error: expect.any(String),
    });
    const [owner] = await fresh.handle.db
      .select({ userId: pushSubscriptions.userId, auth: pushSubscriptions.auth })
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.endpoint, endpoint));
    expect(owner).toEqual({ userId: people.get("bo")!.id, auth: boKeys.auth });

    // The same browser (same keys) signing in as Steve moves cleanly.
    expect((await post({ endpoint, keys: boKeys })).status).toBe(201);
    await fresh.handle.db.delete(pushSubscriptions);
  });

  it("POST /api/data-load refuses a file name with control characters: 400 JSON with a field error", async () => {
    const { POST } = await import("@/app/api/data-load/route");
    const upload = (name: string) => {
      const form = new FormData();
      const csv =
        "Region,Country,Item Type,Sales Channel,Order Priority,Units Sold,Unit Price,Unit Cost,Total Profit\n";
      form.set("file", new File([csv], name, { type: "text/csv" }));
      return POST(new Request("http://localhost/api/data-load", { method: "POST", body: form }));
    };
    signInAs("bo");
    // (A newline cannot get here: multipart encodes it as %0A in the file name.)
    for (const name of [
      "sales\u0000.csv",
      "sales\u001b[31m.csv",
      "sa\u0007les.csv",
      "sales\t.csv",
      "sal\u007fes.csv",
    ]) {
      const refused = await upload(name);
      expect(refused.status, JSON.stringify(name)).toBe(400);
      expect(await refused.json()).toEqual({
        ok: false,
        code: "invalid_input",
        error: "The file name must be one line without control characters.",
        fieldErrors: { file: ["The file name must be one line without control characters."] },
      });
    }
    expect(await fresh.handle.db.$count(dataLoads)).toBe(0);
    // The same file with a plain name is taken.
    expect((await upload("sales.csv")).status).toBe(202);
    expect(await fresh.handle.db.$count(dataLoads)).toBe(1);
  });

  it("Save and Process with a NUL in the name: a field error, nothing saved, the department not locked", async () => {
    const { saveAndProcessAction } = await import("@/app/(app)/departments/actions");
    signInAs("steve");
    const db = fresh.handle.db;
    const [before] = await db.select().from(departments).where(eq(departments.deptno, 10));
    for (const dname of ["RE\u0000SEARCH", "TWO\nLINES", "ESC\u001b[31m"]) {
      expect(await saveAndProcessAction({ deptno: 10, dname, loc: "DALLAS" })).toEqual({
        ok: false,
        error: "Please correct the highlighted fields.",
        fieldErrors: { dname: ["Dname must be one line without control characters."] },
      });
    }
    expect(await db.select().from(departments).where(eq(departments.deptno, 10))).toEqual([before]);
    expect(await db.$count(departmentProcessing, eq(departmentProcessing.deptno, 10))).toBe(0);

    // Not "being processed": the next person's save goes through at once.
    signInAs("pat");
    const next = await saveAndProcessAction({ deptno: 10, dname: "Research", loc: "Dallas" });
    expect(next).toMatchObject({ ok: true, message: "Department 10 submitted for processing." });
    const { abortExecution } = await import("@/lib/chains");
    await abortExecution(
      { id: next.ok ? (next.executionId ?? 0) : 0, by: { userId: people.get("pat")!.id, mayAbortAny: true } },
      db,
    );
  });

  it("Send a test notification: 5 a minute per user, then the wait; every send queued with priority low", async () => {
    const { sendTestNotificationAction } = await import("@/app/(app)/settings/push/actions");
    const { TEST_SEND_LIMIT } = await import("@/lib/auth/throttle");
    const db = fresh.handle.db;
    const bo = people.get("bo")!;
    // One device, so each send queues one message.
    await db.delete(pushSubscriptions);
    await db.insert(pushSubscriptions).values({
      userId: bo.id,
      endpoint: "https://localhost:4541/push/bo-phone",
      ...keys(),
    });
    signInAs("bo");
    for (let send = 1; send <= TEST_SEND_LIMIT.points; send++) {
      expect(await sendTestNotificationAction({}), `send ${send}`).toEqual({ ok: true, queued: 1 });
    }
    const refused = await sendTestNotificationAction({});
    expect(refused).toMatchObject({ ok: false });
    expect(refused.ok ? "" : refused.error).toMatch(/^Too many test notifications — try again in \d+ s\.$/);

    const queued = await db
      .select({ priority: pushMessages.priority })
      .from(pushMessages)
      .where(and(eq(pushMessages.userId, bo.id), inArray(pushMessages.status, ["queued", "sending"])));
    // Only the allowed sends were queued, each behind every real notification.
    expect(queued.map((row) => row.priority)).toEqual(Array(TEST_SEND_LIMIT.points).fill("low"));
  });
});
