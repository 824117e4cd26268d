// Progress and checkpoint writes of executions running at the same time share one statement
// (lib/chains/sql/record-progress.ts). Each caller still gets its own answer: its abort request, or null
// when its lease is gone, and a write under a lost lease changes nothing.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { recordProgress } from "@/lib/chains/sql/record-progress";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

describe("progress writes made at the same time", () => {
  let fresh: FreshDatabase;

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_progress_batch");
  });
  afterAll(async () => {
    await fresh.drop();
  });

  it("commit together, and each caller gets its own answer", async () => {
    const db = fresh.handle.db;
    // Twelve running executions held by worker w1 (attempt 1); #3 was asked to abort; #7 was taken over by
    // another worker (its lease is gone for w1).
    const rows = await queryRows<{ id: number }>(
      db,
      sql`insert into executions (chain_name, title, user_id, session_id, input, status, attempt, lease_owner,
            lease_expires_at, abort_requested)
          select 'test.progress', 'Progress ' || g, (select id from users where username = 'bo'), 's', '{}'::jsonb,
            'EXECUTING', 1, case when g = 7 then 'w2' else 'w1' end, now() + interval '1 minute', g = 3
          from generate_series(1, 12) g
          returning id`,
    );
    const ids = rows.map((row) => Number(row.id));
    const answers = await Promise.all(
      ids.map((id, i) =>
        recordProgress(
          db,
          { id, workerId: "w1", attempt: 1 },
          { sofar: i + 1, totalwork: 12, message: `step ${i + 1}`, stepName: "Two", stepSequence: 2 },
          { state: JSON.stringify({ done: i + 1 }), completedThrough: 1 },
        ),
      ),
    );
    expect(answers).toEqual(ids.map((_, i) => (i === 6 ? null : i === 2)));

    const stored = await queryRows<{
      id: number;
      sofar: number | null;
      state: unknown;
      completed_through: number;
      step_name: string | null;
      tx: string;
    }>(
      db,
      sql`select id, sofar, state, completed_through, step_name, xmin::text as tx from executions
          where id = any(${`{${ids.join(",")}}`}::int[]) order by id`,
    );
    for (const [i, row] of stored.entries()) {
      if (i === 6) {
        // Not w1's any more: untouched.
        expect(row).toMatchObject({ sofar: null, state: null, completed_through: 0, step_name: null });
        continue;
      }
      expect(row).toMatchObject({
        sofar: i + 1,
        state: { done: i + 1 },
        completed_through: 1,
        step_name: "Two",
      });
    }
    // The first write goes at once, the rest wait for it and go together: two transactions, not eleven.
    const transactions = new Set(stored.filter((_, i) => i !== 6).map((row) => row.tx));
    expect(transactions.size).toBeLessThanOrEqual(2);
  });
});
