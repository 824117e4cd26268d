import "server-only";
import { getDatabase } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { announceDatabaseReady } from "@/db/ready";
import { seedDatabase } from "@/db/seed";
import { ConfigError, getEnv } from "@/lib/env";
import { ensureVapidCredentials } from "@/lib/push/credentials";
import { WorkerHost, type WorkerKind } from "@/lib/worker/host";
import { appConsumers } from "./consumers";

const globalForRuntime = globalThis as unknown as { __approvalWorker?: WorkerHost };

/** Migrates and seeds once per process; every entry point awaits this before touching data. */
export function prepareDatabase(): Promise<void> {
  return announceDatabaseReady(async () => {
    const env = getEnv();
    const handle = getDatabase();
    await migrateDatabase(handle, env.DATABASE_URL);
    await seedDatabase(handle.db, env.DEMO_PASSWORD);
    await ensureVapidCredentials(handle.db);
  });
}

export async function startWorkerHost(kind: WorkerKind): Promise<WorkerHost> {
  if (globalForRuntime.__approvalWorker) return globalForRuntime.__approvalWorker;
  const host = new WorkerHost(getDatabase(), kind);
  for (const consumer of appConsumers()) host.register(consumer);
  globalForRuntime.__approvalWorker = host;
  await host.start();
  return host;
}

/** The worker host running inside this process, if any. */
export function getWorkerHost(): WorkerHost | undefined {
  return globalForRuntime.__approvalWorker;
}

/** Start-up of the Next.js server (instrumentation.ts): config, database, and the in-process worker. */
export async function startWebServer(): Promise<void> {
  const env = getEnv();
  await prepareDatabase();
  // The embedded database lives in this process alone, so its worker must too.
  if (env.WORKER_IN_WEB || env.databaseKind === "pglite") {
    const host = await startWorkerHost("web");
    const stop = () => void host.stop(5_000);
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  }
  console.log(
    `[startup] ready: ${env.APP_URL} · database ${env.databaseKind} · in-process worker ${
      getWorkerHost() ? "on" : "off"
    }`,
  );
}

/** A bad environment or an unreachable database: say so plainly and stop instead of serving errors. */
export async function startWebServerOrExit(): Promise<void> {
  try {
    await startWebServer();
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error);
    process.exit(1);
  }
}
