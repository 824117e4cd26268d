// Queue depth (SPEC Q4): does the push claim stay cheap with 10,000 / 100,000 / 1,000,000 messages queued?
// For each depth the queue is filled with generate_series, vacuumed and analysed, then:
//   - claim p50: the sender's claim statement (16 rows, as the sender claims under load), timed around the
//     call, each in a transaction that is rolled back so the depth stays put; the baseline is the previous
//     claim (one OR of both conditions, sorted), on the same rows;
//   - drain: 4 loops claim 16 and record them sent (the sender's own statements, no HTTP), until
//     BENCH_DEPTH_DRAIN messages (default 10,000) are done: messages/s.
// Writes bench/depth.svg. Depths: BENCH_DEPTHS=10000,100000,1000000.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import { createDatabase, type Database, queryRows } from "@/db/client";
import { claimDueMessages, markSent, pushSenderConsumer } from "@/lib/push/sender";
import type { ExecutionDepthPoint } from "./depth-executions";
import { fmt, percentile, type Row, settleAfterFill } from "./support";

export interface DepthBenchOptions {
  databaseUrl: string;
  depths: number[];
  drain: number;
}

export interface DepthPoint {
  depth: number;
  claimP50: number;
  claimP99: number;
  oldClaimP50: number;
  /** EXPLAIN ANALYZE execution time, p50: the statement alone, without waiting for a CPU on the client. */
  serverP50: number;
  oldServerP50: number;
  drainRate: number;
  drainClaimP50: number;
  /** A new sender's housekeeping (its sweep and purge), a device with one waiting row removed, the next sweep. */
  housekeepingP50: number;
  /** The same without migration 0021's indexes (dropped inside the rolled-back transaction). */
  oldHousekeepingP50: number;
}

const CLAIM_LIMIT = 16;
const DEVICES = 1_000;

/** The claim before issue 12: both conditions OR-ed, so neither partial index can serve it. */
function oldClaim(workerId: string) {
  return sql`
    with due as (
      select m.id from push_messages m
      where m.subscription_id is not null
        and ((m.status = 'queued' and m.next_attempt_at <= now())
          or (m.status = 'sending' and m.lease_expires_at < now()))
      order by m.next_attempt_at, m.id
      limit ${CLAIM_LIMIT}
      for update of m skip locked)
    update push_messages m set status = 'sending', lease_owner = ${workerId}, attempts = m.attempts + 1,
      lease_expires_at = now() + interval '30 seconds'
    from due, push_subscriptions s, push_payloads p
    where m.id = due.id and s.id = m.subscription_id and p.id = m.payload_id
    returning m.id, s.endpoint, s.p256dh, s.auth, p.payload::text as payload`;
}

/** Times one statement inside a transaction that is rolled back (the rows stay queued). */
async function timeRolledBack(db: Database, statement: ReturnType<typeof sql>): Promise<number> {
  let elapsed = 0;
  await db
    .transaction(async (tx) => {
      const t0 = performance.now();
      await tx.execute(statement);
      elapsed = performance.now() - t0;
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return elapsed;
}
class RollBack extends Error {}

/** Server-side execution time (EXPLAIN ANALYZE's "Execution Time"), rolled back: no client or network part. */
async function serverMs(db: Database, statement: ReturnType<typeof sql>): Promise<number> {
  let ms = Number.NaN;
  await db
    .transaction(async (tx) => {
      const [row] = await queryRows<{ "QUERY PLAN": [{ "Execution Time": number }] }>(
        tx,
        sql`explain (analyze, timing off, summary on, format json) ${statement}`,
      );
      ms = row?.["QUERY PLAN"][0]["Execution Time"] ?? Number.NaN;
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return ms;
}

/** The sender's housekeeping and a device's removal at this depth, rolled back (see DepthPoint). */
async function housekeepingMs(db: Database, old: boolean): Promise<number> {
  let elapsed = 0;
  await db
    .transaction(async (tx) => {
      if (old) {
        await tx.execute(
          sql`drop index push_messages_subscription_idx, push_messages_orphaned_idx, push_payloads_created_idx`,
        );
      }
      const consumer = pushSenderConsumer();
      const t0 = performance.now();
      await consumer.recoverExpired?.(tx as never);
      await tx.execute(sql`delete from push_subscriptions where device_label = 'depth-leaving'`);
      await consumer.recoverExpired?.(tx as never);
      elapsed = performance.now() - t0;
      throw new RollBack();
    })
    .catch((error: unknown) => {
      if (!(error instanceof RollBack)) throw error;
    });
  return elapsed;
}

async function fill(db: Database, depth: number) {
  await db.execute(sql`truncate push_messages`);
  const [ids] = await queryRows<{ user_id: number; first_sub: number; payload_id: number }>(
    db,
    sql`select (select id from users where username = 'depth') as user_id,
          (select min(id) from push_subscriptions where device_label = 'depth') as first_sub,
          (select min(id) from push_payloads) as payload_id`,
  );
  // 94 % due now (oldest first), 5 % waiting for a retry, 1 % being sent under a live lease.
  await db.execute(sql`
    insert into push_messages (user_id, subscription_id, payload_id, status, attempts, next_attempt_at,
      lease_owner, lease_expires_at)
    select ${ids!.user_id}, ${ids!.first_sub} + g % ${DEVICES}, ${ids!.payload_id},
      (case when g % 100 = 0 then 'sending' else 'queued' end)::push_message_status,
      case when g % 100 in (0, 1, 2, 3, 4, 5) then 1 else 0 end,
      case when g % 100 in (1, 2, 3, 4, 5) then now() + interval '10 minutes'
           else now() - interval '1 hour' + g * interval '1 millisecond' end,
      case when g % 100 = 0 then 'depth-bench-live' end,
      case when g % 100 = 0 then now() + interval '1 hour' end
    from generate_series(1, ${depth}) g`);
}

export async function benchDepth(options: DepthBenchOptions): Promise<{ rows: Row[]; points: DepthPoint[] }> {
  const handle = createDatabase({ url: options.databaseUrl, maxConnections: 6 });
  const db = handle.db;
  const points: DepthPoint[] = [];
  let warmedUp = false;
  try {
    await db.execute(sql`
      insert into users (username, display_name, password_hash) values ('depth', 'Depth', 'not-a-hash')`);
    await db.execute(sql`
      insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
      select (select id from users where username = 'depth'), 'https://localhost:4300/push/depth-' || g,
        'BKeyNotUsedTheseMessagesAreNeverSent', 'auth', 'depth'
      from generate_series(1, ${DEVICES}) g`);
    await db.execute(sql`
      insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
      select id, 'https://localhost:4300/push/depth-leaving', 'BKeyNotUsed', 'auth', 'depth-leaving'
      from users where username = 'depth'`);
    await db.execute(sql`
      insert into push_payloads (title, body, target_url, payload)
      values ('Depth', 'Depth bench', 'http://localhost:3300/', '{"web_push":8030}'::jsonb)`);
    // A small unrecorded round first, so the first depth does not pay for JIT and cold caches.
    for (const depth of [2_000, ...options.depths]) {
      const warmUp = points.length === 0 && depth === 2_000 && !options.depths.includes(2_000) && !warmedUp;
      process.stdout.write(warmUp ? "[warm-up] " : `[${depth}] `);
      await fill(db, depth);
      await db.execute(sql`
        insert into push_messages (user_id, subscription_id, payload_id, next_attempt_at)
        select user_id, id, (select min(id) from push_payloads), now() + interval '1 hour'
        from push_subscriptions where device_label = 'depth-leaving'`);
      await settleAfterFill(db, "push_messages");
      // Claim latency on the full queue (warm-up first: plan cache, buffers).
      for (let i = 0; i < 5; i++)
        await timeRolledBack(db, claimDueMessages({ workerId: "w", limit: 16, leaseMs: 30_000 }));
      const claims: number[] = [];
      for (let i = 0; i < 200; i++) {
        claims.push(
          await timeRolledBack(db, claimDueMessages({ workerId: "w", limit: CLAIM_LIMIT, leaseMs: 30_000 })),
        );
      }
      const serverClaims: number[] = [];
      for (let i = 0; i < 50; i++) {
        serverClaims.push(
          await serverMs(db, claimDueMessages({ workerId: "w", limit: CLAIM_LIMIT, leaseMs: 30_000 })),
        );
      }
      const oldSamples = depth >= 1_000_000 ? 5 : depth >= 100_000 ? 10 : 30;
      const oldClaims: number[] = [];
      const oldServer: number[] = [];
      for (let i = 0; i < oldSamples; i++) {
        oldClaims.push(await timeRolledBack(db, oldClaim("w")));
        oldServer.push(await serverMs(db, oldClaim("w")));
      }
      if (process.env.BENCH_MARK) {
        const plan = await queryRows<{ "QUERY PLAN": string }>(
          db,
          sql`explain (analyze, buffers, costs off) ${claimDueMessages({ workerId: "w", limit: CLAIM_LIMIT, leaseMs: 30_000 })}`,
        );
        console.log(`\nclaim plan at ${depth}:\n${plan.map((row) => row["QUERY PLAN"]).join("\n")}`);
        await db.execute(sql`update push_messages set status = 'queued' where lease_owner = 'w'`);
      }
      // Drain: 4 loops, each claim → record sent (the sender's statements), until `drain` are done.
      const target = Math.min(options.drain, Math.floor(depth * 0.9));
      let done = 0;
      const drainClaims: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: 4 }, async (_, loop) => {
          const workerId = `drain-${loop}`;
          while (done < target) {
            const c0 = performance.now();
            const jobs = await queryRows<{ id: number }>(
              db,
              claimDueMessages({ workerId, limit: CLAIM_LIMIT, leaseMs: 30_000 }),
            );
            drainClaims.push(performance.now() - c0);
            if (jobs.length === 0) break;
            await markSent(
              db,
              workerId,
              jobs.map((job) => ({ id: job.id, statusCode: 201 })),
            );
            done += jobs.length;
          }
        }),
      );
      const drainRate = done / ((performance.now() - t0) / 1000);
      const housekeeping: number[] = [];
      for (let i = 0; i < 7; i++) housekeeping.push(await housekeepingMs(db, false));
      const oldHousekeeping: number[] = [];
      for (let i = 0; i < 3; i++) oldHousekeeping.push(await housekeepingMs(db, true));
      if (warmUp) {
        warmedUp = true;
        continue;
      }
      points.push({
        depth,
        claimP50: percentile(claims, 50),
        claimP99: percentile(claims, 99),
        oldClaimP50: percentile(oldClaims, 50),
        serverP50: percentile(serverClaims, 50),
        oldServerP50: percentile(oldServer, 50),
        drainRate,
        drainClaimP50: percentile(drainClaims, 50),
        housekeepingP50: percentile(housekeeping, 50),
        oldHousekeepingP50: percentile(oldHousekeeping, 50),
      });
    }
    await db.execute(sql`truncate push_messages`);
  } finally {
    await handle.close();
  }
  const first = points[0];
  const rows: Row[] = points.map((point) => ({
    measure: `Push claim at depth ${point.depth.toLocaleString("en")} (16 rows; p50)`,
    ours: `${fmt.ms(point.claimP50)} · p99 ${fmt.ms(point.claimP99)} · server ${point.serverP50.toFixed(2)} ms`,
    baseline: `${fmt.ms(point.oldClaimP50)} · server ${point.oldServerP50.toFixed(1)} ms`,
    note: `old/new ${fmt.ratio(point.oldClaimP50 / point.claimP50)} (target p50 ≤ 5 ms at 1M); drain ${fmt.rate(point.drainRate, "msg/s")}${
      first && point !== first
        ? ` = ${((100 * point.drainRate) / first.drainRate).toFixed(0)}% of the ${first.depth.toLocaleString("en")} rate (target ≥ 80%)`
        : ""
    }, claim p50 while draining ${fmt.ms(point.drainClaimP50)}`,
  }));
  if (points.length > 0) {
    const at = (pick: (point: DepthPoint) => number) =>
      points.map((point) => fmt.ms(pick(point))).join(" / ");
    rows.push({
      measure: `Push housekeeping at depth ${points.map((point) => point.depth.toLocaleString("en")).join(" / ")} (p50)`,
      ours: at((point) => point.housekeepingP50),
      baseline: at((point) => point.oldHousekeepingP50),
      note: "a sender's sweep and retention purge, a device with one waiting row removed, the next sweep; baseline: the same without migration 0021's indexes",
    });
  }
  return { rows, points };
}

/** Writes bench/depth.svg: the push queue's points and, when measured, the executions queue's. */
export function writeDepthChart(points: DepthPoint[], executions: ExecutionDepthPoint[]): void {
  writeFileSync(path.resolve("bench/depth.svg"), depthChart(points, executions));
}

/**
 * Two panels against depth (log scale): claim p50 (push: ours and the old claim, and the statement alone;
 * executions: the claim call), log scale, and drain rate.
 */
function depthChart(points: DepthPoint[], executions: ExecutionDepthPoint[]): string {
  const width = 720;
  const height = 300;
  const panel = { w: 300, h: 200, top: 50 };
  const lefts = [60, 400];
  const depths = points.map((p) => p.depth);
  const xMin = Math.log10(Math.min(...depths));
  const xMax = Math.log10(Math.max(...depths));
  const x = (left: number, depth: number) =>
    left + (xMax === xMin ? panel.w / 2 : ((Math.log10(depth) - xMin) / (xMax - xMin)) * panel.w);
  const ms = [
    ...points.flatMap((p) => [p.claimP50, p.oldClaimP50, p.serverP50]),
    ...executions.map((p) => p.claimP50),
  ].filter((v) => v > 0);
  const yMsMin = Math.floor(Math.log10(Math.min(...ms, 0.1)));
  const yMsMax = Math.ceil(Math.log10(Math.max(...ms, 10)));
  const yMs = (value: number) =>
    panel.top +
    panel.h -
    ((Math.log10(Math.max(value, 10 ** yMsMin)) - yMsMin) / (yMsMax - yMsMin)) * panel.h;
  const rateMax = Math.max(...points.map((p) => p.drainRate), ...executions.map((p) => p.drainRate)) * 1.15;
  const yRate = (value: number) => panel.top + panel.h - (value / rateMax) * panel.h;
  const line = (coords: [number, number][], color: string) =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${coords.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}"/>` +
    coords
      .map(([a, b]) => `<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3.5" fill="${color}"/>`)
      .join("");
  const xAxis = (left: number) =>
    `<line x1="${left}" y1="${panel.top + panel.h}" x2="${left + panel.w}" y2="${panel.top + panel.h}" stroke="#888"/>` +
    points
      .map(
        (p) =>
          `<text x="${x(left, p.depth).toFixed(1)}" y="${panel.top + panel.h + 16}" text-anchor="middle">${p.depth >= 1e6 ? `${p.depth / 1e6}M` : `${p.depth / 1e3}k`}</text>`,
      )
      .join("");
  const msTicks = Array.from({ length: yMsMax - yMsMin + 1 }, (_, i) => 10 ** (yMsMin + i))
    .map(
      (v) =>
        `<line x1="${lefts[0]}" x2="${lefts[0]! + panel.w}" y1="${yMs(v)}" y2="${yMs(v)}" stroke="#eee"/><text x="${lefts[0]! - 6}" y="${yMs(v) + 4}" text-anchor="end">${v >= 1 ? v : v.toFixed(1)} ms</text>`,
    )
    .join("");
  const rateTicks = [0, 0.25, 0.5, 0.75, 1]
    .map((f) => f * rateMax)
    .map(
      (v) =>
        `<line x1="${lefts[1]}" x2="${lefts[1]! + panel.w}" y1="${yRate(v)}" y2="${yRate(v)}" stroke="#eee"/><text x="${lefts[1]! - 6}" y="${yRate(v) + 4}" text-anchor="end">${Math.round(v)}</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11" role="img">
<title>Claim p50 and drain rate against queue depth, push messages and executions</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="${lefts[0]}" y="24" font-size="13" font-weight="bold">Claim p50 vs queue depth (log–log)</text>
<text x="${lefts[1]}" y="24" font-size="13" font-weight="bold">Drain rate vs queue depth (per second)</text>
${msTicks}${rateTicks}${xAxis(lefts[0]!)}${xAxis(lefts[1]!)}
${line(
  points.map((p) => [x(lefts[0]!, p.depth), yMs(p.oldClaimP50)]),
  "#c0392b",
)}
${line(
  points.map((p) => [x(lefts[0]!, p.depth), yMs(p.claimP50)]),
  "#1f6feb",
)}
${line(
  points.map((p) => [x(lefts[0]!, p.depth), yMs(p.serverP50)]),
  "#2da44e",
)}
${line(
  points.map((p) => [x(lefts[1]!, p.depth), yRate(p.drainRate)]),
  "#1f6feb",
)}
${line(
  executions.map((p) => [x(lefts[0]!, p.depth), yMs(p.claimP50)]),
  "#8250df",
)}
${line(
  executions.map((p) => [x(lefts[1]!, p.depth), yRate(p.drainRate)]),
  "#8250df",
)}
<line x1="${lefts[0]}" x2="${lefts[0]! + panel.w}" y1="${yMs(5)}" y2="${yMs(5)}" stroke="#1f6feb" stroke-dasharray="4 3"/>
<text x="${lefts[0]! + panel.w}" y="${yMs(5) - 4}" text-anchor="end" fill="#1f6feb">target 5 ms</text>
<text x="${lefts[0]}" y="${height - 14}" fill="#c0392b">● previous claim (one OR, sorted)</text>
<text x="${lefts[0]! + 180}" y="${height - 14}" fill="#1f6feb">● claim per branch (call)</text>
<text x="${lefts[0]! + 180}" y="${height - 2}" fill="#2da44e">● same, server execution</text>
<text x="${lefts[1]}" y="${height - 14}" fill="#555">queue depth (messages / executions waiting)</text>
${executions.length ? `<text x="${lefts[1]}" y="${height - 2}" fill="#8250df">● executions (claim call; drain exec/s)</text>` : ""}
</svg>
`;
}
