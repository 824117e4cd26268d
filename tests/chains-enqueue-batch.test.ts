// Enqueues made at the same time share one INSERT (db/batch.ts). What a caller observes must not change:
// each gets its own id, in its own order, and one that the database refuses fails alone.
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executions, users } from "@/db/schema";
import { defineChain, runInBackground } from "@/lib/chains";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const noted = defineChain<{ label: string }>({
  name: "test.enqueue-batch.noted",
  title: (input) => `Noted ${input.label}`,
  steps: [{ name: "Run", run() {} }],
});

describe("enqueues made at the same time", () => {
  let fresh: FreshDatabase;
  let bo: { id: number; username: string };

  beforeAll(async () => {
    fresh = await freshDatabase("an_chains_enqueue_batch");
    const [found] = await fresh.handle.db.select().from(users).where(eq(users.username, "bo"));
    bo = { id: found!.id, username: found!.username };
  });
  afterAll(async () => {
    await fresh.drop();
  });

  it("give every caller its own execution, and one the database refuses fails alone", async () => {
    const db = fresh.handle.db;
    const labels = Array.from({ length: 40 }, (_, i) => `call ${i}`);
    // Call 17 names a user that does not exist: its row breaks the foreign key.
    const outcomes = await Promise.allSettled(
      labels.map((label, i) =>
        runInBackground(noted, { label }, { user: i === 17 ? { id: 987_654, username: "ghost" } : bo, db }),
      ),
    );
    expect(outcomes[17]?.status).toBe("rejected");
    const ids = outcomes.flatMap((outcome, i) =>
      i === 17 || outcome.status !== "fulfilled" ? [] : [outcome.value],
    );
    expect(ids).toHaveLength(39);
    expect(new Set(ids).size).toBe(39);
    const rows = await db.select().from(executions).where(inArray(executions.id, ids));
    const byId = new Map(rows.map((row) => [row.id, row]));
    // Each id is the caller's own execution: its input and title are the ones that caller passed.
    for (const [i, outcome] of outcomes.entries()) {
      if (i === 17 || outcome.status !== "fulfilled") continue;
      expect(byId.get(outcome.value)?.input).toEqual({ label: labels[i] });
      expect(byId.get(outcome.value)?.title).toBe(`Noted ${labels[i]}`);
      expect(byId.get(outcome.value)?.status).toBe("ENQUEUED");
    }
    const ghost = await db.select().from(executions).where(eq(executions.title, "Noted call 17"));
    expect(ghost).toHaveLength(0);
  });

  it("an enqueue waiting for another transaction's key does not hold up anyone else's", async () => {
    const db = fresh.handle.db;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let heldId: number | null = null;
    let inserted!: () => void;
    const heldInserted = new Promise<void>((resolve) => {
      inserted = resolve;
    });
    // A caller's transaction enqueues with key "k-held" and stays open.
    const holder = db.transaction(async (tx) => {
      heldId = await runInBackground(noted, { label: "held" }, { user: bo, key: "k-held", db }, tx);
      inserted();
      await released;
    });
    await heldInserted;
    // The same key outside: its INSERT waits for that transaction to end.
    const sameKey = runInBackground(noted, { label: "same key" }, { user: bo, key: "k-held", db });
    // Everyone else's enqueues are written meanwhile.
    const others = await Promise.race([
      Promise.all(
        ["free 1", "free 2", "free 3"].map((label) => runInBackground(noted, { label }, { user: bo, db })),
      ),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("other enqueues waited for the held key")), 5_000),
      ),
    ]).finally(release);
    const written = await db.select().from(executions).where(inArray(executions.id, others));
    expect(written.map((row) => row.title).sort()).toEqual(["Noted free 1", "Noted free 2", "Noted free 3"]);
    await holder;
    // Once it committed, the waiting caller gets the holder's execution (one per key).
    expect(await sameKey).toBe(heldId);
  });
});
