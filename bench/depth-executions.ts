// Queue depth for background executions (SPEC Q4): does the executions claim stay cheap with 10,000 /
// 100,000 / 1,000,000 executions waiting? For each depth the table is filled with generate_series (waiting
// executions of USERS users, plus 5 % scheduled for later and a finished history as large as the queue),
// vacuumed and analysed, then:
//   - claim p50: the worker's claim (8 executions, as a host with 8 slots claims), timed around the call,
//     inside a transaction that is rolled back so the depth stays put; "server" is the claim statement's
//     EXPLAIN ANALYZE execution time;
//   - drain: 4 loops claim 8 and finish them (the engine's own statements, no chain code), until
//     BENCH_DEPTH_DRAIN executions (default 10,000) are done: executions/s.
// Then many users: BENCH_DEPTH_USERS (default 100,000) users with one execution waiting each (the fair claim
// looks at users, not executions), against the claim as it was before migration 0023 (0020's function,
// installed under another name in this database), which looked at every waiting user.
import { readFileSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDatabase, type Database, queryRows } from "@/db/client";
import { claimExecutions } from "@/lib/chains/sql/claim-executions";
import { finishExecution } from "@/lib/chains/sql/finish-execution";
import { fmt, percentile, type Row, settleAfterFill } from "./support";

export interface ExecutionDepthPoint {
  depth: number;
  claimP50: number;
  claimP99: number;
  drainRate: number;
  drainClaimP50: number;
  /** The same claim while an administrator's runtime limit (4) holds the chain: it takes 4 at most. */
  throttledP50: number;
}

const CLAIM_LIMIT = 8;
/** People with waiting work: the fair claim looks at each of them. */
const USERS = 50;
const LIMITS = { appLimit: 10_000, perUserLimit: 10_000 };

class RollBack extends Error {}

/** The claim before migration 0023, which looked at every user with waiting work. */
const CLAIM_BEFORE_0023 = "claim_executions_before_0023";

/** Times one claim inside a transaction that is rolled back (the executions stay waiting). */
async function timeClaim(db: Database, before0023 = false): Promise<number> {
  let elapsed = 0;
  await db
    .transaction(async (tx) => {
      const t0 = performance.now();
      if (before0023) {
        await tx.execute(
          sql`select * from ${sql.raw(CLAIM_BEFORE_0023)}('w', ${CLAIM_LIMIT}, 30, ${LIMITS.appLimit}, ${LIMITS.perUserLimit})`,
        );
      } else {
        await claimExecutions(tx, {
          workerId: "w",
          limit: CLAIM_LIMIT,
          leaseMs: 30_000,
          afterUser: -1,
          ...LIMITS,
        });
      }
      elapsed = performance.now() - t0;
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return elapsed;
}

async function fill(db: Database, depth: number, users: number[]) {
  await db.execute(sql`truncate executions cascade`);
  // The waiting queue (oldest first), 5 % of it scheduled an hour from now, and as many finished ones.
  await db.execute(sql`
    insert into executions (chain_name, user_id, session_id, input, status, run_at, created_at, started_at, finished_at)
    select 'system.wait', (${`{${users.join(",")}}`}::int[])[1 + g % ${users.length}], 'depth', '{"steps":0}'::jsonb,
      (case when g > ${depth} then 'SUCCESS' when g % 20 = 0 then 'SCHEDULED' else 'ENQUEUED' end)::execution_status,
      case when g % 20 = 0 and g <= ${depth} then now() + interval '1 hour' end,
      now() - interval '1 day' + g * interval '1 millisecond',
      case when g > ${depth} then now() - interval '1 day' end,
      case when g > ${depth} then now() - interval '1 day' end
    from generate_series(1, ${depth * 2}) g`);
}

export async function benchExecutionsDepth(options: {
  databaseUrl: string;
  depths: number[];
  drain: number;
  /** Users with one execution waiting each, for the many-users row; 0 skips it. */
  manyUsers: number;
}): Promise<{ rows: Row[]; points: ExecutionDepthPoint[] }> {
  const handle = createDatabase({ url: options.databaseUrl, maxConnections: 6 });
  const db = handle.db;
  const points: ExecutionDepthPoint[] = [];
  let manyUsers: Awaited<ReturnType<typeof atManyUsers>> | undefined;
  try {
    await db.execute(sql`
      insert into users (username, display_name, password_hash)
      select 'depth-' || g, 'Depth ' || g, 'not-a-hash' from generate_series(1, ${USERS}) g`);
    const users = (
      await queryRows<{ id: number }>(db, sql`select id from users where username like 'depth-%'`)
    ).map((row) => Number(row.id));
    for (const depth of [2_000, ...options.depths]) {
      const warmUp = points.length === 0 && depth === 2_000 && !options.depths.includes(2_000);
      process.stdout.write(warmUp ? "[executions warm-up] " : `[executions ${depth}] `);
      await fill(db, depth, users);
      await settleAfterFill(db, "executions");
      for (let i = 0; i < 5; i++) await timeClaim(db);
      const claims: number[] = [];
      for (let i = 0; i < 200; i++) claims.push(await timeClaim(db));
      // A throttled chain at the same depth: a runtime per-chain limit on it (the claim reads the chain's
      // next few in its order, not its whole backlog).
      await db.execute(sql`insert into execution_settings (scope, chain_name, max_concurrent)
                           values ('chain', 'system.wait', 4)`);
      for (let i = 0; i < 5; i++) await timeClaim(db);
      const throttled: number[] = [];
      for (let i = 0; i < 50; i++) throttled.push(await timeClaim(db));
      await db.execute(sql`delete from execution_settings where scope = 'chain'`);
      if (process.env.BENCH_MARK) {
        await db.execute(sql.raw("load 'auto_explain'"));
        console.log(`\n(executions claim plan at ${depth}: see the PostgreSQL log, auto_explain)`);
      }
      const drained = await drain(db, Math.min(options.drain, Math.floor(depth * 0.9)));
      if (warmUp) continue;
      points.push({
        depth,
        claimP50: percentile(claims, 50),
        claimP99: percentile(claims, 99),
        drainRate: drained.rate,
        drainClaimP50: drained.claimP50,
        throttledP50: percentile(throttled, 50),
      });
    }
    if (options.manyUsers > 0) manyUsers = await atManyUsers(db, options.manyUsers, options.drain);
    await db.execute(sql`truncate executions cascade`);
  } finally {
    await handle.close();
  }
  const first = points[0];
  const rows: Row[] = points.map((point) => ({
    measure: `Executions claim at depth ${point.depth.toLocaleString("en")} (${CLAIM_LIMIT} of ${USERS} users' queue; p50)`,
    ours: `${fmt.ms(point.claimP50)} · p99 ${fmt.ms(point.claimP99)}`,
    baseline: "—",
    note: `target p50 ≤ 5 ms at 1M; drain ${fmt.rate(point.drainRate, "exec/s")}${
      first && point !== first
        ? ` = ${((100 * point.drainRate) / first.drainRate).toFixed(0)}% of the ${first.depth.toLocaleString("en")} rate (target ≥ 80%)`
        : ""
    }, claim p50 while draining ${fmt.ms(point.drainClaimP50)}; the chain throttled (runtime limit 4): claim p50 ${fmt.ms(point.throttledP50)}`,
  }));
  if (manyUsers) {
    const { users, claimP50, claimP99, beforeP50, rate, drainClaimP50 } = manyUsers;
    rows.push({
      measure: `Executions claim, ${users.toLocaleString("en")} users waiting one each (${CLAIM_LIMIT} of them; p50)`,
      ours: `${fmt.ms(claimP50)} · p99 ${fmt.ms(claimP99)}`,
      baseline: `${fmt.ms(beforeP50)} (claim before 0023)`,
      note: `before/now ${fmt.ratio(beforeP50 / claimP50)}; drain ${fmt.rate(rate, "exec/s")}${
        first
          ? ` = ${((100 * rate) / first.drainRate).toFixed(0)}% of the ${USERS}-user rate at ${first.depth.toLocaleString("en")}`
          : ""
      }, claim p50 while draining ${fmt.ms(drainClaimP50)}`,
    });
  }
  return { rows, points };
}

/** 4 loops claim 8 and finish them as successes, until `target` are done (or nothing is left). */
async function drain(db: Database, target: number) {
  let done = 0;
  const claims: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 4 }, async (_, loop) => {
      const workerId = `drain-${loop}`;
      // Each loop goes round the users with waiting work as a worker's claims do.
      let afterUser: number | null = -1;
      while (done < target) {
        const c0 = performance.now();
        const jobs = await claimExecutions(db, {
          workerId,
          limit: CLAIM_LIMIT,
          leaseMs: 30_000,
          afterUser,
          onNextAfterUser: (next) => {
            afterUser = next ?? -1;
          },
          ...LIMITS,
        });
        claims.push(performance.now() - c0);
        if (jobs.length === 0) break;
        await Promise.all(
          jobs.map((job) =>
            finishExecution(db, {
              lease: { id: job.id, workerId, attempt: job.attempt },
              slot: job.slot,
              pending: { sofar: null, totalwork: null, message: null, stepName: null, stepSequence: null },
              ending: { kind: "success", state: job.state },
              limited: false,
              appLimit: LIMITS.appLimit,
            }),
          ),
        );
        done += jobs.length;
      }
    }),
  );
  return { rate: done / ((performance.now() - t0) / 1000), claimP50: percentile(claims, 50) };
}

/**
 * `users` users with one execution waiting each: the claim now and as it was before migration 0023
 * (0020's function under another name: it looked at every waiting user, ~0.5 s per claim at 100,000), and a
 * drain.
 */
async function atManyUsers(db: Database, users: number, target: number) {
  process.stdout.write(`[executions, ${users} users] `);
  const before = readFileSync(path.resolve("db/migrations/0020_executions_claim_user_order.sql"), "utf8");
  await db.execute(
    sql.raw(
      before.replace("CREATE OR REPLACE FUNCTION claim_executions(", `CREATE FUNCTION ${CLAIM_BEFORE_0023}(`),
    ),
  );
  await db.execute(sql`
    insert into users (username, display_name, password_hash)
    select 'many-' || g, 'Many ' || g, 'not-a-hash' from generate_series(1, ${users}) g`);
  await db.execute(sql`truncate executions cascade`);
  await db.execute(sql`
    insert into executions (chain_name, user_id, session_id, input, status, created_at)
    select 'system.wait', u.id, 'depth', '{"steps":0}'::jsonb, 'ENQUEUED',
      now() - interval '1 day' + row_number() over (order by u.id) * interval '1 millisecond'
    from users u where u.username like 'many-%'`);
  await settleAfterFill(db, "executions");
  for (let i = 0; i < 5; i++) await timeClaim(db);
  const claims: number[] = [];
  for (let i = 0; i < 200; i++) claims.push(await timeClaim(db));
  await timeClaim(db, true);
  const before0023: number[] = [];
  for (let i = 0; i < 5; i++) before0023.push(await timeClaim(db, true));
  const drained = await drain(db, Math.min(target, Math.floor(users * 0.9)));
  return {
    users,
    claimP50: percentile(claims, 50),
    claimP99: percentile(claims, 99),
    beforeP50: percentile(before0023, 50),
    rate: drained.rate,
    drainClaimP50: drained.claimP50,
  };
}
