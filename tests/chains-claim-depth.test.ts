// The executions claim reads what it needs, not the queue (Q4): with 10 times as many executions waiting,
// a claim reads about as many rows — for chains without limits, throttled chains (maxConcurrent or a
// runtime setting), serialized chains and chains limited per user — and still claims what their limits
// allow. "Rows read" is PostgreSQL's own count for the claim's transaction (pg_stat_xact_user_tables).
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { executionsConsumer } from "@/lib/chains/consumer";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const CHAIN = "test.claim-depth.work";
const USERS = 20;

interface Shape {
  maxConcurrent?: number;
  maxPerUser?: number;
  /** Serialized: one key for all but the last 10 waiting executions, which have a key each. */
  serialized?: boolean;
}

describe("the executions claim at depth", () => {
  let fresh: FreshDatabase;
  let client: postgres.Sql;
  let users: number[] = [];

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_claim_depth");
    client = postgres(fresh.url, { max: 1, onnotice: () => {} });
    const db = fresh.handle.db;
    await db.execute(sql`
      insert into users (username, display_name, password_hash)
      select 'depth' || g, 'Depth ' || g, 'not-a-hash' from generate_series(1, ${USERS}) g`);
    users = (
      await queryRows<{ id: number }>(db, sql`select id from users where username like 'depth%' order by id`)
    ).map((row) => Number(row.id));
  });
  afterAll(async () => {
    await client?.end();
    await fresh?.drop();
  });

  /** The owner of the execution numbered `g` in a generate_series fill: the users in turn. */
  const ownerOfRow = () => sql`(${`{${users.join(",")}}`}::int[])[1 + g % ${USERS}]`;

  /** `depth` waiting executions of CHAIN, spread over the users, and as many finished ones. */
  async function fill(depth: number, shape: Shape, analyze = true) {
    const db = fresh.handle.db;
    await db.execute(sql`truncate executions cascade`);
    await db.execute(sql`update execution_slots set execution_id = null, assigned_at = null`);
    await db.execute(sql`
      insert into executions (chain_name, user_id, session_id, input, status, created_at, started_at,
        finished_at, max_concurrent, max_per_user, serialize, serialize_key)
      select ${CHAIN}, ${ownerOfRow()}, 'depth', '{}'::jsonb,
        (case when g > ${depth} then 'SUCCESS' else 'ENQUEUED' end)::execution_status,
        now() - interval '1 day' + g * interval '1 millisecond',
        case when g > ${depth} then now() - interval '1 day' end,
        case when g > ${depth} then now() - interval '1 day' end,
        ${shape.maxConcurrent ?? null}::int, ${shape.maxPerUser ?? null}::int, ${Boolean(shape.serialized)},
        case when ${Boolean(shape.serialized)} then (case when g > ${depth - 10} then 'own' || g else 'shared' end) end
      from generate_series(1, ${depth * 2}) g`);
    if (analyze) await db.execute(sql`analyze executions`);
  }

  /**
   * Pages of executions' indexes read so far (cumulative statistics, flushed by the backend when it goes
   * idle: forced here and in the claim). Unlike rows, they also count index entries passed over inside an
   * index without fetching their row.
   */
  const indexPagesRead = async (on: postgres.Sql) => {
    await on`select pg_stat_force_next_flush()`;
    const [row] = await on<{ n: string }[]>`
      select coalesce(sum(idx_blks_hit + idx_blks_read), 0)::text as n
      from pg_statio_user_indexes where relname = 'executions'`;
    return Number(row?.n ?? 0);
  };

  /**
   * One claim of `limit` on `on`, rolled back: what it claimed, how many rows of executions it read and how
   * many pages of its indexes.
   */
  async function claim(limit: number, on: postgres.Sql = client, afterUser: number | null = null) {
    let result = { ids: [] as number[], keys: [] as (string | null)[], owners: [] as number[], reads: 0 };
    const pagesBefore = await indexPagesRead(on);
    // (The counts of the backend's transactions not yet reported are included: before and after, subtracted.)
    const readsSoFar = async (tx: postgres.TransactionSql) =>
      (
        await tx<{ n: number }[]>`
          select (seq_tup_read + coalesce(idx_tup_fetch, 0))::int as n
          from pg_stat_xact_user_tables where relname = 'executions'`
      )[0]?.n ?? 0;
    await on
      .begin(async (tx) => {
        const before = await readsSoFar(tx);
        const rows = await tx<{ id: number | null; userId: number }[]>`
          select * from claim_executions('depth-test', ${limit}, 30, 10000, 10000, ${afterUser}::int)`;
        const ids = rows.flatMap((row) => (row.id === null ? [] : [row.id]));
        const claimed = await tx<{ serialize_key: string | null; user_id: number }[]>`
          select serialize_key, user_id from executions where id = any(${ids}::int[]) order by id`;
        const reads = (await readsSoFar(tx)) - before;
        await tx`select pg_stat_force_next_flush()`;
        result = {
          ids,
          keys: claimed.map((row) => row.serialize_key),
          owners: claimed.map((row) => row.user_id),
          reads,
        };
        throw new Error("roll back");
      })
      .catch((error: unknown) => {
        if ((error as Error).message !== "roll back") throw error;
      });
    return { ...result, indexPages: (await indexPagesRead(on)) - pagesBefore };
  }

  async function atTwoDepths(shape: Shape, setting?: { chain: string; max: number }) {
    const out = [];
    for (const depth of [400, 4_000]) {
      await fill(depth, shape);
      await fresh.handle.db.execute(sql`delete from execution_settings where scope = 'chain'`);
      if (setting) {
        await fresh.handle.db.execute(
          sql`insert into execution_settings (scope, chain_name, max_concurrent)
              values ('chain', ${setting.chain}, ${setting.max})`,
        );
      }
      out.push(await claim(8));
    }
    await fresh.handle.db.execute(sql`delete from execution_settings where scope = 'chain'`);
    const [small, large] = out as [Awaited<ReturnType<typeof claim>>, Awaited<ReturnType<typeof claim>>];
    // Ten times the queue: about the same reads (a full read of the queue would be ≥ 4,000).
    expect(large.reads).toBeLessThan(small.reads * 1.5 + 100);
    expect(large.reads).toBeLessThan(1_000);
    return large;
  }

  it("a chain without limits: the claim takes 8, reading a few rows per user", async () => {
    const claimed = await atTwoDepths({});
    expect(claimed.ids).toHaveLength(8);
    expect(new Set(claimed.owners).size).toBe(8);
  });

  it("a throttled chain (maxConcurrent 3): the claim takes 3, whatever waits behind them", async () => {
    const claimed = await atTwoDepths({ maxConcurrent: 3 });
    expect(claimed.ids).toHaveLength(3);
  });

  it("a runtime setting (2) on the busy chain: the claim takes 2", async () => {
    const claimed = await atTwoDepths({}, { chain: CHAIN, max: 2 });
    expect(claimed.ids).toHaveLength(2);
  });

  it("a runtime setting on a chain with nothing waiting costs no read of the queue", async () => {
    const claimed = await atTwoDepths({}, { chain: "test.claim-depth.idle", max: 2 });
    expect(claimed.ids).toHaveLength(8);
  });

  it("a serialized chain with one key's long backlog: the first of each key, those behind it too", async () => {
    const claimed = await atTwoDepths({ serialized: true });
    expect(claimed.ids.length).toBeGreaterThan(1);
    expect(claimed.keys.some((key) => key?.startsWith("own"))).toBe(true);
    expect(new Set(claimed.keys).size).toBe(claimed.keys.length);
    expect(claimed.keys).toContain("shared");
  });

  it("a chain limited per user (1): one each for 8 users", async () => {
    const claimed = await atTwoDepths({ maxPerUser: 1 });
    expect(claimed.ids).toHaveLength(8);
    expect(new Set(claimed.owners).size).toBe(8);
  });

  it("a user's lookups stop at the chain they look in, however much else of theirs waits", async () => {
    // Chains without limits: one user with 1 waiting in the first chain and 60,000 in the second, another
    // with 60,000 in the first and 1 in the second. Each lookup reads on only as far as it needs: looked up by
    // a range on the user alone, they read on through the user's other chain (785 index pages, against 357
    // here, most of those the claim's own index updates). Rows fetched do not show it: an entry passed over
    // inside the index fetches none.
    const db = fresh.handle.db;
    await fill(0, {}, false);
    const [first, second] = users;
    await db.execute(sql`
      insert into executions (chain_name, user_id, session_id, input, status)
      select case when (u = ${first} and g = 1) or (u = ${second} and g > 1) then ${`${CHAIN}.a`} else ${`${CHAIN}.b`} end,
        u, 'depth', '{}'::jsonb, 'ENQUEUED'
      from unnest(array[${first}, ${second}]::int[]) u, generate_series(1, 60001) g`);
    await db.execute(sql`analyze executions`);
    const claimed = await claim(8);
    expect(claimed.ids).toHaveLength(8);
    expect(new Set(claimed.owners)).toEqual(new Set([first, second]));
    expect(claimed.indexPages).toBeLessThan(500);
    expect(claimed.reads).toBeLessThan(500);
  });

  describe("more users waiting than a claim looks at (256)", () => {
    let many: number[] = [];
    beforeAll(async () => {
      many = (
        await queryRows<{ id: number }>(
          fresh.handle.db,
          sql`insert into users (username, display_name, password_hash)
              select 'many' || g, 'Many ' || g, 'not-a-hash' from generate_series(1, 6000) g returning id`,
        )
      )
        .map((row) => Number(row.id))
        .sort((a, b) => a - b);
    });

    /** `each` waiting executions of CHAIN for each of the `count` lowest of them, and nothing else. */
    async function waitingFor(count: number, each: number, shape: Shape = {}) {
      const db = fresh.handle.db;
      await fill(0, {}, false);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, max_concurrent, max_per_user)
        select ${CHAIN}, u, 'many', '{}'::jsonb, 'ENQUEUED', ${shape.maxConcurrent ?? null}::int,
          ${shape.maxPerUser ?? null}::int
        from unnest(${`{${many.slice(0, count).join(",")}}`}::int[]) u, generate_series(1, ${each}) g`);
      await db.execute(sql`analyze executions`);
    }

    /** A worker's claim, committed, its executions finished at once (as if each took no time). */
    /**
     * A worker's claim, committed, its executions finished at once (as if each took no time): who it served
     * and where the next claim should look.
     */
    async function claimAndFinish(limit: number, afterUser: number | null, perUserLimit = 10_000) {
      const rows = await client<{ id: number | null; userId: number; nextAfterUser: number | null }[]>`
        select * from claim_executions('many-test', ${limit}, 30, 10000, ${perUserLimit}, ${afterUser}::int)`;
      const claimed = rows.filter((row) => row.id !== null);
      const ids = claimed.map((row) => row.id as number);
      await client`update executions set status = 'SUCCESS', finished_at = now() where id = any(${ids}::int[])`;
      await client`update execution_slots set execution_id = null, assigned_at = null
                   where execution_id = any(${ids}::int[])`;
      return { owners: claimed.map((row) => row.userId), next: rows[0]?.nextAfterUser ?? null };
    }

    /** `claims` successive claims of 8, each looking where the last one said: how often each user was served. */
    async function worker(claims: number, perUserLimit = 10_000) {
      const served = new Map<number, number>();
      let afterUser: number | null = -1;
      for (let i = 0; i < claims; i++) {
        const { owners, next } = await claimAndFinish(8, afterUser, perUserLimit);
        for (const owner of owners) served.set(owner, (served.get(owner) ?? 0) + 1);
        afterUser = next;
      }
      return served;
    }

    it.each([
      { chain: "without limits", shape: {}, claims: 8 },
      { chain: "throttled (maxConcurrent 3)", shape: { maxConcurrent: 3 }, claims: 3 },
      { chain: "limited per user (1)", shape: { maxPerUser: 1 }, claims: 8 },
    ])(
      "a chain $chain: a claim reads about as much with 6,000 users waiting as with 600",
      async ({ shape, claims }) => {
        // Before migration 0023 every waiting user was looked at: 6,000 rows and more at 6,000 users. The
        // worker's cursor half-way: a throttled chain's next executions (the oldest, of the lowest users) lie
        // outside the users it looks at first.
        await waitingFor(600, 1, shape);
        const small = await claim(8, client, many[300]);
        await waitingFor(6_000, 1, shape);
        const large = await claim(8, client, many[3_000]);
        expect(large.ids).toHaveLength(claims);
        expect(new Set(large.owners).size).toBe(claims);
        expect(large.reads).toBeLessThan(small.reads * 1.5 + 100);
        expect(large.reads).toBeLessThan(2_000);
      },
    );

    it("successive claims go round all of them: 600 users served within 90 claims of 8", async () => {
      // Two waiting each, so that a user served once still has work: a claim that always looked at the
      // same 256 users would serve those again and again, and never the others. Each claim serves the 8 of its
      // window served longest ago, and the next looks at the next 256: every user within 90 claims (75 at
      // best), none twice before the last got its first.
      await waitingFor(600, 2);
      const served = await worker(90);
      expect(served.size).toBe(600);
      expect(Math.max(...served.values())).toBe(2);
    });

    it("the executions consumer passes each claim's cursor on to its next", async () => {
      await waitingFor(600, 2);
      const consumer = executionsConsumer({ maxConcurrent: 10_000, maxPerUser: 10_000, schedules: false });
      const served = new Set<number>();
      for (let i = 0; i < 90; i++) {
        const jobs = await consumer.claim(fresh.handle.db, {
          workerId: "consumer-test",
          limit: 8,
          leaseMs: 30_000,
        });
        const ids = jobs.map((job) => job.id);
        for (const job of jobs) served.add(job.userId);
        await client`update executions set status = 'SUCCESS', finished_at = now() where id = any(${ids}::int[])`;
        await client`update execution_slots set execution_id = null, assigned_at = null
                     where execution_id = any(${ids}::int[])`;
      }
      expect(served.size).toBe(600);
    });

    it("a claim that serves only a few users still moves on to the others", async () => {
      // Five users with long backlogs of a chain without limits (2 each at a time: per-user limit 2) fill every
      // claim; 300 users wait on a full throttled chain; one more, beyond them, waits with an execution of a
      // chain limited per user. Looking on from the highest user served, the claims would never reach it.
      const db = fresh.handle.db;
      await fill(0, {}, false);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status)
        select ${CHAIN}, u, 'many', '{}'::jsonb, 'ENQUEUED'
        from unnest(${`{${many.slice(0, 5).join(",")}}`}::int[]) u, generate_series(1, 100) g`);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, max_concurrent)
        select ${`${CHAIN}.full`}, u, 'many', '{}'::jsonb, 'ENQUEUED', 1
        from unnest(${`{${many.slice(5, 305).join(",")}}`}::int[]) u`);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, max_concurrent, started_at,
          lease_owner, lease_expires_at)
        values (${`${CHAIN}.full`}, ${many[5_000]}, 'many', '{}'::jsonb, 'EXECUTING', 1, now(), 'elsewhere',
          now() + interval '1 hour')`);
      const last = many[900] as number;
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, max_per_user)
        values (${`${CHAIN}.own`}, ${last}, 'many', '{}'::jsonb, 'ENQUEUED', 1)`);
      await db.execute(sql`analyze executions`);
      const served = await worker(5, 2);
      expect(served.get(last)).toBe(1);
    });

    it("a serialized chain's next execution starts whoever it belongs to", async () => {
      // One key for the whole chain (serialize: "chain"), executions of 1,000 users, the oldest (next in line)
      // of a user far past the first claims' windows; and a backlog of a chain without limits that every
      // claim finds. The key must not wait idle until the claims' windows come round to its owner.
      const db = fresh.handle.db;
      await fill(0, {}, false);
      const owners = [many[900], ...many.slice(0, 900), ...many.slice(901, 1_000)];
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, serialize, serialize_key)
        select ${`${CHAIN}.one-at-a-time`}, o.u, 'many', '{}'::jsonb, 'ENQUEUED', true, 'the chain'
        from unnest(${`{${owners.join(",")}}`}::int[]) with ordinality o(u, n) order by o.n`);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status)
        select ${CHAIN}, ${many[0]}, 'many', '{}'::jsonb, 'ENQUEUED' from generate_series(1, 100)`);
      await db.execute(sql`analyze executions`);
      const served = await worker(2, 2);
      expect(served.get(many[900] as number)).toBe(1);
    });
  });

  it("a connection whose claim was planned on an empty queue reads little once thousands arrive", async () => {
    // The claim's plans are made once per connection: on a new one, planned while nothing waits (statistics
    // say so: only finished executions); then 4,000 arrive, not analysed yet, as in a burst, each user's in
    // one block (a user who starts 200 at once, then the next). In a database of its own, as on a young
    // install: statistics left by the other cases here (of indexes now empty) change what the planner picks.
    const young = await freshDatabase("an_chains_claim_young");
    const on = postgres(young.url, { max: 1, onnotice: () => {} });
    try {
      const db = young.handle.db;
      const owners = (
        await queryRows<{ id: number }>(
          db,
          sql`insert into users (username, display_name, password_hash)
              select 'young' || g, 'Young ' || g, 'not-a-hash' from generate_series(1, ${USERS}) g returning id`,
        )
      ).map((row) => Number(row.id));
      const owner = sql`(${`{${owners.join(",")}}`}::int[])[1 + (g - 1) / ${4000 / USERS}]`;
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status, started_at, finished_at)
        select ${CHAIN}, ${owner}, 'young', '{}'::jsonb, 'SUCCESS', now(), now() from generate_series(1, 1000) g`);
      await db.execute(sql`analyze executions`);
      expect((await claim(8, on)).ids).toHaveLength(0);
      await db.execute(sql`
        insert into executions (chain_name, user_id, session_id, input, status)
        select ${CHAIN}, ${owner}, 'young', '{}'::jsonb, 'ENQUEUED' from generate_series(1, 4000) g`);
      const claimed = await claim(8, on);
      expect(claimed.ids).toHaveLength(8);
      expect(new Set(claimed.owners).size).toBe(8);
      // A few rows per claimed execution, not the queue: the plan that sorted another index's rows read 19
      // times the queue (0016); the per-user lookups that passed over other users' blocks read 27,313 rows
      // here (0018); about 120 now.
      expect(claimed.reads).toBeLessThan(500);
      expect(claimed.indexPages).toBeLessThan(500);
    } finally {
      await on.end();
      await young.drop();
    }
  });
});
