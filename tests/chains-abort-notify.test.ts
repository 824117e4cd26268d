import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { executions } from "@/db/schema";
import { abortExecution, defineChain } from "@/lib/chains";
import { chainsHarness } from "./support/chains-harness";
import { waitFor } from "./support/fresh-database";

const h = chainsHarness("an_chains_abort", { leaseMs: 5_000, pollMs: 100, maxConcurrent: 4, maxPerUser: 4 });

const started = new Set<string>();
const sawAbort = new Set<string>();

/** A step that waits on ctx.signal only (it never reports progress, so no write carries the abort back). */
const listening = defineChain<{ tag: string }>({
  name: "test.abort.listening",
  steps: [
    {
      name: "Wait for the signal",
      run: ({ state, signal }) =>
        new Promise<void>((resolve) => {
          started.add(state.tag);
          signal.addEventListener(
            "abort",
            () => {
              sawAbort.add(state.tag);
              resolve();
            },
            { once: true },
          );
        }),
    },
  ],
});

describe("abort without polling (E11)", () => {
  it("a running step waiting on ctx.signal ends ABORTED promptly: the NOTIFY reached its worker", async () => {
    // Neither a progress write nor the fallback poll happens within the test: only the notification can work.
    await h.startHost({ progressMs: 600_000, abortPollMs: 600_000 });
    const id = await h.enqueue(listening, { tag: "notified" });
    await waitFor(async () => started.has("notified"), Boolean);
    expect(await abortExecution({ id, by: { userId: h.bo.id, mayAbortAny: false } }, h.db)).toBe(
      "abort_requested",
    );
    const [ended] = await waitFor(
      () => h.rows([id]),
      ([r]) => r?.status === "ABORTED",
    );
    expect(ended?.status).toBe("ABORTED");
    expect(sawAbort.has("notified")).toBe(true);
  });

  it("a lost notification: the slow fallback poll still finds the abort request", async () => {
    await h.startHost({ progressMs: 50, abortPollMs: 300 });
    const id = await h.enqueue(listening, { tag: "lost" });
    await waitFor(async () => started.has("lost"), Boolean);
    // The request without its NOTIFY, as if the notification had been lost.
    await h.db.update(executions).set({ abortRequested: true }).where(eq(executions.id, id));
    const [ended] = await waitFor(
      () => h.rows([id]),
      ([r]) => r?.status === "ABORTED",
    );
    expect(ended?.status).toBe("ABORTED");
    expect(sawAbort.has("lost")).toBe(true);
  });
});
