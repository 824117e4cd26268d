import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { listLiveWorkers } from "@/lib/worker/registry";
import { createFreshDatabase, dropDatabase } from "./support/postgres";
import { WORKER_ARGS } from "./support/worker-process";

const root = path.resolve(import.meta.dirname, "..");

/** Starts `npm run worker` the way an operator does (same command line as package.json). */
function startWorker(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = "";
  const child = spawn(process.execPath, WORKER_ARGS, {
    cwd: root,
    env: { NODE_ENV: "production", PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  return { child, output: () => output };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

describe("npm run worker", () => {
  let handle: DatabaseHandle;
  // A database of its own: a worker in the shared test database would claim other files' push messages
  // and executions (with another secret it cannot even decrypt the VAPID key) while they run in parallel.
  let fresh: { name: string; url: string };
  beforeAll(async () => {
    fresh = await createFreshDatabase("an_test_cli");
    handle = createDatabase({ url: fresh.url, maxConnections: 1 });
    await migrateDatabase(handle, fresh.url);
  });
  afterAll(async () => {
    await handle.close();
    await dropDatabase(fresh.name);
  });

  it("registers as a live worker and stops cleanly on SIGTERM", async () => {
    const worker = startWorker({
      DATABASE_URL: fresh.url,
      NEXTAUTH_SECRET: "cli-test-secret-cli-test-secret-0123456",
    });
    const exited = exitOf(worker.child);
    const deadline = Date.now() + 20_000;
    let mine: string | undefined;
    while (!mine && Date.now() < deadline) {
      const announced = /\[worker\] (\S+) started/.exec(worker.output())?.[1];
      mine = (await listLiveWorkers(handle.db)).find((w) => w.kind === "worker" && w.id === announced)?.id;
      if (!mine) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(mine, worker.output()).toBeDefined();
    worker.child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(worker.output()).toContain("[worker] stopped");
    // What it did, per consumer (nothing was queued here).
    expect(worker.output()).toMatch(/\[worker\] stopped \(.*executions 0 processed, 0 failed/);
    expect(worker.output()).toMatch(/\[worker\] stopped \(.*push-sender 0 processed, 0 failed/);
    expect((await listLiveWorkers(handle.db)).map((w) => w.id)).not.toContain(mine);
  });

  it("explains that the embedded database needs no extra worker", async () => {
    const worker = startWorker({ NEXTAUTH_SECRET: "cli-test-secret-cli-test-secret-0123456" });
    expect(await exitOf(worker.child)).toBe(1);
    expect(worker.output()).toContain("npm run worker needs DATABASE_URL");
  });

  it("refuses a bad configuration with a readable message", async () => {
    const worker = startWorker({ DATABASE_URL: "mysql://nope", WORKER_CONCURRENCY: "many" });
    expect(await exitOf(worker.child)).toBe(1);
    expect(worker.output()).toContain("Invalid configuration:");
    expect(worker.output()).toContain("DATABASE_URL: must be a postgres:// or postgresql:// connection URL");
    expect(worker.output()).toContain("WORKER_CONCURRENCY:");
  });
});
