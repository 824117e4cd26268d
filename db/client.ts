import "server-only";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { type SQL, sql } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { DATA_DIR, getEnv } from "@/lib/env";
import * as schema from "./schema";

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction handed to `db.transaction(async (tx) => …)`. */
export type Transaction = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Query functions take either, so callers can compose them in one transaction. */
export type Executor = Database | Transaction;

export type DatabaseKind = "postgres" | "pglite";

export interface DatabaseHandle {
  kind: DatabaseKind;
  db: Database;
  /** Subscribes to a PostgreSQL NOTIFY channel; resolves to an unsubscribe function. */
  listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; when absent the embedded PGlite database is used. */
  url?: string;
  /** PGlite data directory, or "memory://" for an in-memory database. */
  pgliteDataDir?: string;
  /** Connections in the postgres.js pool. */
  maxConnections?: number;
}

export function createDatabase(options: DatabaseOptions): DatabaseHandle {
  if (options.url) {
    const client = postgres(options.url, {
      max: options.maxConnections ?? 10,
      onnotice: () => {},
      connection: { application_name: "approval-notifications" },
    });
    return {
      kind: "postgres",
      db: drizzlePostgres({ client, schema }) as unknown as Database,
      async listen(channel, onNotify) {
        const subscription = await client.listen(channel, onNotify);
        return () => subscription.unlisten();
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const dataDir = options.pgliteDataDir ?? path.join(DATA_DIR, "pglite");
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = new PGlite(dataDir);
  return {
    kind: "pglite",
    db: drizzlePglite({ client, schema }) as unknown as Database,
    async listen(channel, onNotify) {
      return client.listen(channel, onNotify);
    },
    close: () => client.close(),
  };
}

const globalForDb = globalThis as unknown as { __approvalDb?: DatabaseHandle };

/**
 * The process-wide database. Cached on globalThis because Next.js loads instrumentation and routes as
 * separate bundles: two PGlite instances on one data directory would corrupt it.
 */
export function getDatabase(): DatabaseHandle {
  if (!globalForDb.__approvalDb) {
    const env = getEnv();
    globalForDb.__approvalDb = createDatabase({ url: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR });
  }
  return globalForDb.__approvalDb;
}

export function getDb(): Database {
  return getDatabase().db;
}

/**
 * Rows of a raw `execute()`: postgres.js returns an array, PGlite an object with `rows`.
 *
 * `prepared`: for the engines' hot statements (claims, completions) run many times a second. On
 * PostgreSQL the statement is prepared once per connection and its plan reused (drizzle's `execute` sends
 * every statement unnamed, so PostgreSQL plans a large claim again on every call — more CPU than running
 * it). The statement's text must not vary between calls: values go in as parameters. PGlite runs it as is.
 */
export async function queryRows<T>(
  executor: Executor,
  query: SQL,
  options?: { prepared?: boolean },
): Promise<T[]> {
  const client = options?.prepared ? postgresClientOf(executor) : null;
  if (client) {
    const { sql: text, params } = (executor as unknown as Internals).dialect.sqlToQuery(query);
    return (await client.unsafe(text, params as never[], { prepare: true })) as unknown as T[];
  }
  const result = (await executor.execute(query)) as unknown as T[] | { rows: T[] };
  return Array.isArray(result) ? result : result.rows;
}

/** drizzle keeps its SQL compiler and the driver's client (the transaction's own, inside one) here. */
interface Internals {
  dialect: { sqlToQuery(query: SQL): { sql: string; params: unknown[] } };
  session?: { client?: unknown };
}

/** The postgres.js client behind a database or transaction (null on PGlite). */
function postgresClientOf(executor: Executor): postgres.Sql | null {
  const client = (executor as unknown as Internals).session?.client as Partial<postgres.Sql> | undefined;
  return client && typeof client.unsafe === "function" ? (client as postgres.Sql) : null;
}

/**
 * An `int[]` parameter for `= any(…)` and `unnest(…)`: one bound value however long the list (drizzle would
 * expand a JavaScript array into one parameter per element).
 */
export function intArray(values: readonly (number | string)[]): SQL {
  const numbers = values.map(Number);
  if (!numbers.every(Number.isSafeInteger)) throw new TypeError("intArray takes whole numbers only");
  return sql`${`{${numbers.join(",")}}`}::int[]`;
}

/** NOTIFY that is delivered when the surrounding transaction (if any) commits. */
export async function notify(executor: Executor, channel: string, payload = ""): Promise<void> {
  await executor.execute(sql`select pg_notify(${channel}, ${payload})`);
}
