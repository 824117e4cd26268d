import { describe, expect, it } from "vitest";
import { defineChain } from "@/lib/chains";
import { defaultPerUserLimit } from "@/lib/chains/consumer";
import { processDepartmentInBackground } from "@/lib/departments/chains";
import { chainsHarness } from "./support/chains-harness";
import { waitFor } from "./support/fresh-database";

const h = chainsHarness("an_chains_fair", { leaseMs: 1_500, pollMs: 100, progressMs: 30 });

type Tagged = { tag: string };
const steps = [
  { name: "Work until the gate opens", run: ({ state }: { state: Tagged }) => h.gates.wait(state.tag) },
];
/** Stands in for "Process department": long-running until the test lets it finish. */
const department = defineChain<Tagged>({ name: "test.fair.department", steps });
/** Stands in for the one-row data load. */
const dataLoad = defineChain<Tagged>({ name: "test.fair.load", steps });
const perUserChain = defineChain<Tagged>({ name: "test.fair.per-user", maxConcurrentPerUser: 1, steps });

describe("fairness among users (E9) on PostgreSQL", () => {
  const { startHost, statuses, enqueue } = h;
  const open = (tag: string) => h.gates.open(tag);

  it("the default per-user limit is half the application limit, at least 1", () => {
    expect([0, 1, 2, 3, 4, 9].map(defaultPerUserLimit)).toEqual([1, 1, 1, 1, 2, 4]);
  });

  it("bo starts four departments with the application limit 4: steve's data load starts while bo's wait", async () => {
    await startHost({ maxConcurrent: 4 }); // the per-user limit is its default: 2
    const bos: number[] = [];
    for (let i = 1; i <= 4; i++) bos.push(await enqueue(department, { tag: `dept-${i}` }, h.bo));
    const load = await enqueue(dataLoad, { tag: "load" }, h.steve);
    const seen = await waitFor(
      () => statuses([...bos, load]),
      (s) => s[4] === "EXECUTING",
    );
    expect(seen[4]).toBe("EXECUTING");
    // bo holds two slots (his first two departments); his other two still wait.
    expect(seen.slice(0, 4)).toEqual(["EXECUTING", "EXECUTING", "ENQUEUED", "ENQUEUED"]);
    // A finished department lets bo's next one start: his limit, not a lock-out.
    open("dept-1");
    const next = await waitFor(
      () => statuses(bos),
      (s) => s[2] === "EXECUTING",
    );
    expect(next).toEqual(["SUCCESS", "EXECUTING", "EXECUTING", "ENQUEUED"]);
  });

  it("takes users in turns: with one slot, steve's execution runs before bo's backlog drained", async () => {
    await startHost({ maxConcurrent: 1 });
    const bos: number[] = [];
    for (let i = 1; i <= 3; i++) bos.push(await enqueue(department, { tag: `rr-${i}` }, h.bo));
    const load = await enqueue(dataLoad, { tag: "rr-load" }, h.steve);
    await waitFor(
      () => statuses([bos[0]!]),
      (s) => s[0] === "EXECUTING",
    );
    open("rr-1");
    // With one slot, bo just had his turn: steve's goes next although bo's second is older …
    const second = await waitFor(
      () => statuses([...bos, load]),
      (s) => s[0] === "SUCCESS" && s.includes("EXECUTING"),
    );
    expect(second).toEqual(["SUCCESS", "ENQUEUED", "ENQUEUED", "EXECUTING"]);
    open("rr-load");
    // … then bo's backlog, in order.
    const third = await waitFor(
      () => statuses([...bos, load]),
      (s) => s[3] === "SUCCESS" && s.includes("EXECUTING"),
    );
    expect(third).toEqual(["SUCCESS", "EXECUTING", "ENQUEUED", "SUCCESS"]);
  });

  it("a chain's maxConcurrentPerUser holds per user while other users run alongside", async () => {
    await startHost({ maxConcurrent: 10, maxPerUser: 10 });
    const bos: number[] = [];
    for (let i = 1; i <= 3; i++) bos.push(await enqueue(perUserChain, { tag: `pu-${i}` }, h.bo));
    const steves = await enqueue(perUserChain, { tag: "pu-steve" }, h.steve);
    const seen = await waitFor(
      () => statuses([...bos, steves]),
      (s) => s[0] === "EXECUTING" && s[3] === "EXECUTING",
    );
    expect(seen).toEqual(["EXECUTING", "ENQUEUED", "ENQUEUED", "EXECUTING"]);
    open("pu-1");
    expect(
      await waitFor(
        () => statuses(bos),
        (s) => s[1] === "EXECUTING",
      ),
    ).toEqual(["SUCCESS", "EXECUTING", "ENQUEUED"]);
  });

  it("the departments demo's background chain runs at most two per user", () => {
    expect(processDepartmentInBackground.maxConcurrentPerUser).toBe(2);
  });
});
