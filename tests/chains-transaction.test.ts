import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database, type DatabaseHandle, queryRows } from "@/db/client";
import { executions } from "@/db/schema";
import { type Chain, defineChain, runChain, runInBackground, waitChain } from "@/lib/chains";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const user = { id: 1, username: "bo" };

/** Step 1 writes a row (and, with enqueue, queues an execution); step 2 throws. */
const twoSteps = defineChain<{ label: string; enqueue?: boolean }>({
  name: "test.tx.two-steps",
  steps: [
    {
      name: "Write",
      run: async (ctx) => {
        await ctx.db.execute(sql`insert into tx_probe (label) values (${ctx.state.label})`);
        if (ctx.state.enqueue) await ctx.runInBackground(waitChain, { steps: 0, stepMs: 0 });
      },
    },
    {
      name: "Fail",
      run: () => {
        throw new Error("second step failed");
      },
    },
  ],
});
const fine = defineChain<{ label: string }>({
  name: "test.tx.fine",
  steps: [
    {
      name: "Write",
      run: (ctx) =>
        ctx.db.execute(sql`insert into tx_probe (label) values (${ctx.state.label})`).then(() => {}),
    },
  ],
});

const labels = async (db: Database) =>
  (await queryRows<{ label: string }>(db, sql`select label from tx_probe order by label`)).map(
    (r) => r.label,
  );

async function checks(db: Database, chain: Chain<{ label: string; enqueue?: boolean }>) {
  await expect(runChain(chain, { label: "atomic" }, { user, db, transaction: true })).rejects.toThrow(
    "second step failed",
  );
  expect(await labels(db)).toEqual([]);
  // Without the option, the first step's row stays (today's behaviour).
  await expect(runChain(chain, { label: "partial" }, { user, db })).rejects.toThrow("second step failed");
  expect(await labels(db)).toEqual(["partial"]);
  await runChain(fine, { label: "whole" }, { user, db, transaction: true });
  expect(await labels(db)).toEqual(["partial", "whole"]);
}

describe("foreground transactions (E7)", () => {
  describe("on PostgreSQL", () => {
    let fresh: FreshDatabase;
    beforeAll(async () => {
      fresh = await freshDatabase("an_chains_tx");
      await fresh.handle.db.execute(sql`create table tx_probe (label text not null)`);
    });
    afterAll(() => fresh.drop());

    it("a chain whose second step throws leaves no rows of the first step, nor executions it enqueued", async () => {
      const [bo] = await queryRows<{ id: number }>(
        fresh.handle.db,
        sql`select id from users where username = 'bo'`,
      );
      const before = await fresh.handle.db.$count(executions);
      await expect(
        runChain(
          twoSteps,
          { label: "with child", enqueue: true },
          { user: { id: bo!.id, username: "bo" }, db: fresh.handle.db, transaction: true },
        ),
      ).rejects.toThrow("second step failed");
      expect(await fresh.handle.db.$count(executions)).toBe(before);
      await checks(fresh.handle.db, twoSteps);
      // An enqueue outside the chain still works (the transaction ended).
      await expect(
        runInBackground(
          waitChain,
          { steps: 0, stepMs: 0 },
          { user: { id: bo!.id, username: "bo" }, db: fresh.handle.db },
        ),
      ).resolves.toBeGreaterThan(0);
    });
  });

  describe("on PGlite (the embedded default)", () => {
    let handle: DatabaseHandle;
    beforeAll(async () => {
      handle = createDatabase({ pgliteDataDir: "memory://" });
      await handle.db.execute(sql`create table tx_probe (label text not null)`);
    });
    afterAll(() => handle.close());

    it("a chain whose second step throws leaves no rows of the first step", () =>
      checks(handle.db, twoSteps));
  });
});
