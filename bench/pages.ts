// Server response time of the list pages with many rows: the production server (`npm start`) against the
// bench database, signed in through next-auth's credentials endpoint, each page fetched in full 50 times.
//
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDatabase, type Database } from "@/db/client";
import { percentile, type Row, startProcess, stopProcess } from "./support";

export const APP_PORT = 3300;

/** The pages measured and the user who reads them. */
export const PAGES = [
  { path: "/reimbursements", user: "bo" },
  { path: "/approvals", user: "pat" },
] as const;

export interface PagesBenchOptions {
  databaseUrl: string;
  rows: number;
  requests: number;
  demoPassword: string;
  secret: string;
}

/**
 * `rows` claims of bo's, each with its open approval task: /reimbursements reads bo's history and
 * /approvals pat's queue over all of them (both pages limit and sort in SQL, on indexes).
 */
async function seedClaims(db: Database, rows: number): Promise<void> {
  await db.execute(sql`
    with claims as (
      insert into reimbursements (user_id, amount_cents, receipt_from, client_token)
      select (select id from users where username = 'bo'), 100 + g, 'Bench Store ' || g, gen_random_uuid()
      from generate_series(1, ${rows}) as g
      returning id, user_id, amount_cents, receipt_from)
    insert into approval_tasks (reimbursement_id, subject, priority, due_at, initiated_by_id)
    select id, 'Claim for $' || to_char(amount_cents / 100.0, 'FM999990.00') || ' from ' || receipt_from || ' by BO',
      'LOW', now() + make_interval(days => 3, secs => id), user_id
    from claims`);
}

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
  try {
    await seedClaims(handle.db, options.rows);
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
      rows.push({
        measure: `Page ${page.path} (${options.rows} rows), p50 of ${options.requests}`,
        ours: `p50 ${percentile(times, 50).toFixed(0)} ms · p99 ${percentile(times, 99).toFixed(0)} ms`,
        baseline: "—",
        note: `target < 200 ms; HTTP ${status} as ${page.user}`,
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
