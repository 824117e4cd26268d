import type { TestProject } from "vitest/node";
import { createDatabase } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { seedDatabase } from "@/db/seed";
import { createFreshDatabase, dropDatabase } from "./postgres";

declare module "vitest" {
  export interface ProvidedContext {
    databaseUrl: string;
  }
}

/** One fresh, migrated and seeded PostgreSQL database for the whole run; dropped at the end. */
export default async function setup(project: TestProject) {
  const { name, url } = await createFreshDatabase("an_test");
  const handle = createDatabase({ url, maxConnections: 2 });
  await migrateDatabase(handle, url);
  await seedDatabase(handle.db, "demo");
  await handle.close();
  project.provide("databaseUrl", url);
  return async () => {
    await dropDatabase(name);
  };
}
