import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { seedDatabase } from "@/db/seed";
import { createFreshDatabase, dropDatabase } from "./postgres";

export interface FreshDatabase {
  url: string;
  handle: DatabaseHandle;
  /** Closes the handle and drops the database. */
  drop(): Promise<void>;
}

/**
 * A migrated, seeded database of the test file's own, for tests whose worker hosts claim every row of a
 * table: no other test file's host (or `npm run worker` process) can take their work.
 */
export async function freshDatabase(prefix: string, maxConnections = 6): Promise<FreshDatabase> {
  const { name, url } = await createFreshDatabase(prefix);
  const handle = createDatabase({ url, maxConnections });
  await migrateDatabase(handle, url);
  await seedDatabase(handle.db, "demo");
  return {
    url,
    handle,
    async drop() {
      await handle.close();
      await dropDatabase(name);
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Reads until `done` holds or the time is up; returns the last value read. */
export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(25);
  }
}
