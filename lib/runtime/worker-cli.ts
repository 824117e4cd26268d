import { getDatabase } from "@/db/client";
import { ConfigError, getEnv } from "@/lib/env";
import { prepareDatabase, startWorkerHost } from "@/lib/runtime/startup";

/** `npm run worker`: an extra worker process against the same PostgreSQL as the web server. */
async function main() {
  const env = getEnv();
  if (env.databaseKind !== "postgres") {
    console.error(
      "npm run worker needs DATABASE_URL: the embedded database belongs to the web server process, " +
        "which already runs a worker.",
    );
    process.exit(1);
  }
  await prepareDatabase();
  const host = await startWorkerHost("worker");
  console.log(`[worker] ${host.id} started (${host.status().consumers.length} consumers)`);
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`[worker] ${signal}: finishing running jobs`);
    await host.stop(10_000);
    await getDatabase().close();
    // What this process did, per consumer: an operator (or the bench) can see how the work was shared.
    const done = host
      .status()
      .consumers.map(
        (consumer) => `${consumer.name} ${consumer.processed} processed, ${consumer.failed} failed`,
      );
    console.log(`[worker] stopped (${done.join("; ")})`);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((error) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
