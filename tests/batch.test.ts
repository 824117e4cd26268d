// db/batch.ts: callers that call again as soon as they are answered (a loop per request handler, a
// fan-out by 16 callers) must share statements, not take turns with a statement of one between groups.
import { describe, expect, it } from "vitest";
import { Batcher } from "@/db/batch";

describe("Batcher", () => {
  it("keeps callers that call again at once in full groups", async () => {
    const groups: number[] = [];
    const batcher = new Batcher<number, number>(
      async (items) => {
        groups.push(items.length);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return items.map((item) => item * 2);
      },
      { maxItems: 256, maxInFlight: 1 },
    );
    const callers = 16;
    const calls = 20;
    // Like sendPushNotification: the caller's next call comes a few awaits after its answer.
    const send = async (item: number) => {
      await Promise.resolve();
      const doubled = await batcher.add(item);
      return doubled - 2 * item;
    };
    const answers: number[] = [];
    await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        for (let i = 0; i < calls; i++) answers.push(await send(caller * calls + i));
      }),
    );
    expect(answers).toHaveLength(callers * calls);
    expect(new Set(answers)).toEqual(new Set([0]));
    // The first call goes alone (nothing else waits yet), the other 15 next; then every group holds all
    // 16 callers until the first one, a call ahead, is done. (Before: groups of 1 and 16 by turns.)
    expect(groups.length).toBeLessThanOrEqual(calls + 2);
    const middle = groups.slice(2, -1);
    expect(middle).toEqual(middle.map(() => callers));
  });

  it("lets timers and I/O run between statements that never leave the process (PGlite)", async () => {
    // PGlite answers a query with promises only: no socket, no timer. A stream of callers must still let
    // the rest of the process (lease heartbeats, HTTP, NOTIFY) have a turn, not wait until it dries up.
    const batcher = new Batcher<number, number>(async (items) => items, { maxItems: 4, maxInFlight: 1 });
    let written = 0;
    let writtenWhenTheLoopTurned = -1;
    setImmediate(() => {
      writtenWhenTheLoopTurned = written;
    });
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = 0; i < 50; i++) {
          await batcher.add(i);
          written += 1;
        }
      }),
    );
    expect(written).toBe(400);
    // Before: only once all 400 were written.
    expect(writtenWhenTheLoopTurned).toBeGreaterThanOrEqual(0);
    expect(writtenWhenTheLoopTurned).toBeLessThan(40);
  });

  it("sends a lone call at once", async () => {
    const batcher = new Batcher<string, string>(async (items) => items.map((item) => item.toUpperCase()), {
      maxItems: 8,
      maxInFlight: 1,
    });
    expect(await batcher.add("a")).toBe("A");
    expect(await batcher.add("b")).toBe("B");
  });
});
