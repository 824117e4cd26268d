import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executions, users } from "@/db/schema";
import { runInBackground } from "@/lib/chains";
import { retryableWaitChain, type WaitInput, waitChain } from "@/lib/chains/builtin";
import { WORKER_STOPPED } from "@/lib/chains/consumer";
import { maxOverlap } from "./support/executions";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";
import { WORKER_ARGS } from "./support/worker-process";

const root = path.resolve(import.meta.dirname, "..");

/** `npm run worker`, as an operator starts it, with a one-second lease so a death is seen quickly. */
function startWorker(url: string): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<unknown>;
  kill: (signal: NodeJS.Signals) => void;
} {
  let output = "";
  const child = spawn(process.execPath, WORKER_ARGS, {
    cwd: root,
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      DATABASE_URL: url,
      NEXTAUTH_SECRET: "worker-test-secret-worker-test-secret-01",
      BACKGROUND_MAX_CONCURRENT: "2",
      // One user starts everything here: the per-user limit (default 1 of 2) would hide the app-wide one.
      BACKGROUND_MAX_PER_USER: "2",
      BACKGROUND_LEASE_SECONDS: "1",
      WORKER_CONCURRENCY: "4",
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so a SIGKILL reaches everything it started.
    detached: true,
  });
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // already gone
    }
  };
  return { child, output: () => output, exited, kill };
}

async function started(worker: ReturnType<typeof startWorker>): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!worker.output().includes("started (") && Date.now() < deadline) {
    if (worker.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(worker.output(), worker.output()).toContain("started (");
}

describe("background executions in real worker processes", () => {
  let fresh: FreshDatabase;
  let bo: { id: number; username: string };
  const workers: ReturnType<typeof startWorker>[] = [];

  const enqueue = (input: WaitInput, chain = waitChain) =>
    runInBackground(chain, input, { user: bo, session: "proc", db: fresh.handle.db });
  const rows = (ids: number[]) =>
    fresh.handle.db.select().from(executions).where(inArray(executions.id, ids)).orderBy(executions.id);
  const allFinished = (ids: number[], timeoutMs = 30_000) =>
    waitFor(
      () => rows(ids),
      (list) => list.every((r) => ["SUCCESS", "FAILED", "ABORTED"].includes(r.status)),
      timeoutMs,
    );

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_proc", 3);
    const [found] = await fresh.handle.db
      .select({ id: users.id, username: users.username })
      .from(users)
      .where(eq(users.username, "bo"));
    bo = found!;
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited));
    await fresh.drop();
  });

  it("two worker processes share the application-wide limit, a killed one loses nothing and resumes at the interrupted step", async () => {
    const first = startWorker(fresh.url);
    const second = startWorker(fresh.url);
    workers.push(first, second);
    await Promise.all([started(first), started(second)]);

    // BACKGROUND_MAX_CONCURRENT=2 holds across both processes (each could run 4).
    const quick: number[] = [];
    for (let i = 0; i < 8; i++) quick.push(await enqueue({ steps: 3, stepMs: 60 }));
    const done = await allFinished(quick);
    expect(done.map((r) => r.status)).toEqual(Array(8).fill("SUCCESS"));
    expect(maxOverlap(done)).toBe(2);

    // Both workers die (SIGKILL: no clean-up) in the middle of a step.
    const plain = await enqueue({ steps: 200, stepMs: 50 });
    const again = await enqueue({ steps: 20, stepMs: 50 }, retryableWaitChain);
    await waitFor(
      () => rows([plain, again]),
      (list) => list.every((r) => r.status === "EXECUTING" && (r.sofar ?? 0) >= 2),
      15_000,
    );
    first.kill("SIGKILL");
    second.kill("SIGKILL");
    await Promise.all([first.exited, second.exited]);
    // Work queued while no worker runs waits in the table.
    const queued = [await enqueue({ steps: 1, stepMs: 0 }), await enqueue({ steps: 1, stepMs: 0 })];
    expect((await rows([plain, again])).map((r) => r.status)).toEqual(["EXECUTING", "EXECUTING"]);

    // A restarted worker notices the expired leases and takes the queue.
    const restarted = startWorker(fresh.url);
    workers.push(restarted);
    const ended = await allFinished([plain, again, ...queued]);
    expect(ended[0]).toMatchObject({ status: "FAILED", error: WORKER_STOPPED, attempt: 1 });
    expect(ended[1]).toMatchObject({ status: "SUCCESS", attempt: 2, sofar: 20 });
    // Durable steps: the rerun resumed at "Wait" with the saved state; "Prepare" (completed) did not run again.
    expect(ended[1]?.state).toMatchObject({ preparedInAttempt: 1, done: 20 });
    expect(ended[1]?.attemptLog).toEqual([
      { attempt: 1, step: "Wait", error: WORKER_STOPPED, at: expect.any(String) },
    ]);
    expect(ended.slice(2).map((r) => r.status)).toEqual(["SUCCESS", "SUCCESS"]);

    restarted.kill("SIGTERM");
    expect(await restarted.exited).toBe(0);
  }, 90_000);
});
