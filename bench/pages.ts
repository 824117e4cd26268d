// Server response time of the list pages with many rows: the production server (`npm start`) against the
// bench database, signed in through next-auth's credentials endpoint, each page fetched in full 50 times.
//
// To adapt when the demo tables change: PAGES says which page is read by whom and which tables it needs;
// seedRows() fills each table generically from its catalog (see the rules there).
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDatabase, type Database, queryRows } from "@/db/client";
import { percentile, type Row, startProcess, stopProcess } from "./support";

export const APP_PORT = 3300;

/** The pages measured, the user who reads them, and the tables seeded (in order) before measuring. */
export const PAGES = [
  { path: "/reimbursements", user: "bo", tables: ["reimbursements"] },
  { path: "/approvals", user: "pat", tables: ["reimbursements", "approval_tasks"] },
] as const;

export interface PagesBenchOptions {
  databaseUrl: string;
  rows: number;
  requests: number;
  demoPassword: string;
  secret: string;
}

async function tableExists(db: Database, table: string): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(
    db,
    sql`select to_regclass(${`public.${table}`}) is not null as found`,
  );
  return row?.found === true;
}

interface Column {
  name: string;
  type: string;
  udt: string;
  references: string | null;
  isEnum: boolean;
}

/**
 * Inserts `rows` rows into `table`, filling every required column without a default:
 * a reference to users → the page's user; a reference to another table → its rows in turn;
 * an enum → its first value; numbers → 1..rows; text → "Bench <n>"; times → spread over the last days.
 */
async function seedRows(db: Database, table: string, rows: number, userId: number): Promise<void> {
  const columns = await queryRows<Column>(
    db,
    sql`
    select c.column_name as name, c.data_type as type, c.udt_name as udt,
      (select ccu.table_name from information_schema.key_column_usage k
         join information_schema.referential_constraints r on r.constraint_name = k.constraint_name
         join information_schema.constraint_column_usage ccu on ccu.constraint_name = r.unique_constraint_name
        where k.table_name = c.table_name and k.column_name = c.column_name limit 1) as references,
      exists (select 1 from pg_type t where t.typname = c.udt_name and t.typtype = 'e') as "isEnum"
    from information_schema.columns c
    where c.table_schema = 'public' and c.table_name = ${table}
      and c.is_nullable = 'NO' and c.column_default is null and c.is_identity = 'NO'
      and c.is_generated = 'NEVER'
    order by c.ordinal_position`,
  );
  const joins: string[] = [];
  const values = columns.map((column, index) => {
    if (column.references === "users") return String(userId);
    if (column.references) {
      joins.push(
        `join (select id, row_number() over (order by id) as rn, count(*) over () as total from "${column.references}") r${index} on r${index}.rn = ((g - 1) % r${index}.total) + 1`,
      );
      return `r${index}.id`;
    }
    if (column.isEnum) return `(enum_range(null::"${column.udt}"))[1]`;
    if (/int|numeric|double|real/.test(column.type)) return "g";
    if (column.type === "boolean") return "false";
    if (/timestamp|date/.test(column.type)) return "now() - g * interval '1 minute'";
    if (/json/.test(column.type)) return "'{}'";
    return "'Bench ' || g";
  });
  const names = columns.map((column) => `"${column.name}"`).join(", ");
  await db.execute(
    sql.raw(`insert into "${table}" (${names})
      select ${values.join(", ")} from generate_series(1, ${rows}) g ${joins.join(" ")}`),
  );
}

/** Signs in through next-auth's credentials callback and returns the session cookie header. */
async function signIn(origin: string, username: string, password: string): Promise<string> {
  const csrf = await fetch(`${origin}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const cookies = csrf.headers.getSetCookie().map((cookie) => cookie.split(";")[0]);
  const response = await fetch(`${origin}/api/auth/callback/credentials`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies.join("; ") },
    body: new URLSearchParams({ csrfToken, username, password, callbackUrl: `${origin}/` }),
  });
  const session = response.headers
    .getSetCookie()
    .map((cookie) => cookie.split(";")[0]!)
    .find((cookie) => cookie.includes("session-token="));
  if (!session) throw new Error(`sign-in as ${username} failed (status ${response.status})`);
  return [...cookies, session].join("; ");
}

export async function benchPages(options: PagesBenchOptions): Promise<Row[]> {
  const handle = createDatabase({ url: options.databaseUrl, maxConnections: 2 });
  const missing = new Map<string, string[]>();
  try {
    const seeded = new Set<string>();
    for (const page of PAGES) {
      const absent: string[] = [];
      for (const table of page.tables) if (!(await tableExists(handle.db, table))) absent.push(table);
      if (absent.length > 0) {
        missing.set(page.path, absent);
        continue;
      }
      const [user] = await queryRows<{ id: number }>(
        handle.db,
        sql`select id from users where username = ${page.user}`,
      );
      for (const table of page.tables) {
        if (seeded.has(table)) continue;
        await seedRows(handle.db, table, options.rows, user!.id);
        seeded.add(table);
      }
    }
  } finally {
    await handle.close();
  }

  const origin = `http://localhost:${APP_PORT}`;
  const built = performance.now();
  const server = await startProcess("app server", process.execPath, [path.resolve("scripts/start.mjs")], {
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(APP_PORT),
      APP_URL: origin,
      DATABASE_URL: options.databaseUrl,
      NEXTAUTH_SECRET: options.secret,
      DEMO_PASSWORD: options.demoPassword,
      WORKER_IN_WEB: "false",
    },
    ready: /\[startup\] ready/,
    timeoutMs: 240_000,
  });
  const startSeconds = (performance.now() - built) / 1000;
  try {
    const rows: Row[] = [];
    for (const page of PAGES) {
      const cookie = await signIn(origin, page.user, options.demoPassword);
      const times: number[] = [];
      let status = 0;
      for (let i = 0; i < options.requests + 5; i++) {
        const t0 = performance.now();
        const response = await fetch(`${origin}${page.path}`, { headers: { cookie }, redirect: "manual" });
        await response.text();
        status = response.status;
        if (i >= 5) times.push(performance.now() - t0);
      }
      const absent = missing.get(page.path);
      rows.push({
        measure: `Page ${page.path} (${absent ? "no" : options.rows} rows), p50 of ${options.requests}`,
        ours: `p50 ${percentile(times, 50).toFixed(0)} ms · p99 ${percentile(times, 99).toFixed(0)} ms`,
        baseline: "—",
        note: absent
          ? `n/a: table missing (${absent.join(", ")}): the page as it is, not seeded; HTTP ${status} as ${page.user}`
          : `target < 200 ms; HTTP ${status} as ${page.user}`,
      });
    }
    rows.push({
      measure: "  app server start (npm start, incl. build if stale)",
      ours: `${startSeconds.toFixed(0)} s`,
      baseline: "—",
      note: "not part of any figure above",
    });
    return rows;
  } finally {
    await stopProcess(server);
  }
}
