// No lock serializes the executions claim (Q5): while one claimer's transaction is still open, another
// claims at once — other users' executions, into other slots — and the application-wide limit still holds.
import { eq, sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { users } from "@/db/schema";
import { defineChain, runInBackground } from "@/lib/chains";
import { claimExecutions } from "@/lib/chains/sql/claim-executions";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const noted = defineChain<{ label: string }>({
  name: "test.claim-parallel.noted",
  steps: [{ name: "Run", run() {} }],
});

/** Rejects if `promise` has not settled within `ms`: a claim blocked behind another would. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("two claimers at the same time", () => {
  let fresh: FreshDatabase;
  let first: postgres.Sql;
  const person = async (username: string) => {
    const [row] = await fresh.handle.db.select().from(users).where(eq(users.username, username));
    return { id: row!.id, username };
  };

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_claim_parallel");
    first = postgres(fresh.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await first?.end();
    await fresh.drop();
  });

  it("the second claims other users' work while the first has not committed; the limit holds", async () => {
    const db = fresh.handle.db;
    const [bo, steve, pat] = [await person("bo"), await person("steve"), await person("pat")];
    for (const user of [bo, bo, steve, pat])
      await runInBackground(noted, { label: user.username }, { user, db });
    const owner = async (ids: number[]) =>
      (
        await queryRows<{ username: string }>(
          db,
          sql`select u.username from executions e join users u on u.id = e.user_id
              where e.id = any(${`{${ids.join(",")}}`}::int[]) order by u.username`,
        )
      ).map((row) => row.username);

    // The first claimer takes one execution (one slot, one user) and keeps its transaction open.
    let releaseFirst: () => void = () => {};
    const firstHolds = new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    let firstClaimed: number[] = [];
    let firstReady: () => void = () => {};
    const ready = new Promise<void>((resolve) => {
      firstReady = resolve;
    });
    const firstDone = first.begin(async (tx) => {
      const rows = await tx<{ id: number | null }[]>`select * from claim_executions('first', 1, 30, 3, 3)`;
      firstClaimed = rows.flatMap((row) => (row.id === null ? [] : [row.id]));
      firstReady();
      await firstHolds;
    });
    await ready;
    expect(firstClaimed).toHaveLength(1);

    // The second claimer asks for everything: it answers at once, with other users' executions, and the
    // application-wide limit 3 leaves it two slots (the first holds one).
    const second = await within(
      claimExecutions(db, { workerId: "second", limit: 10, leaseMs: 30_000, appLimit: 3, perUserLimit: 3 }),
      5_000,
      "the second claim",
    );
    expect(second).toHaveLength(2);
    const firstUser = await owner(firstClaimed);
    // Neither claims the other's execution, and the second did not take the first's user (locked by it).
    expect(second.map((job) => job.id)).not.toContain(firstClaimed[0]);
    expect(await owner(second.map((job) => job.id))).not.toContain(firstUser[0]);

    releaseFirst();
    await firstDone;
    const [running] = await queryRows<{ n: number; slots: number }>(
      db,
      sql`select (select count(*)::int from executions where status = 'EXECUTING') as n,
                 (select count(*)::int from execution_slots where execution_id is not null) as slots`,
    );
    expect(running).toEqual({ n: 3, slots: 3 });
    // At the limit: a third claim gets nothing.
    const third = await claimExecutions(db, {
      workerId: "third",
      limit: 10,
      leaseMs: 30_000,
      appLimit: 3,
      perUserLimit: 3,
    });
    expect(third).toHaveLength(0);
  });
});
