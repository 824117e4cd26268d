// Where no encryption thread can start, the sender's encryptions take turns with I/O
// (lib/push/encryption-threads.ts): a claim of many messages is encrypted a few per event-loop turn, so
// database and push-service answers are not held up behind all of them.
import { describe, expect, it } from "vitest";
import { Turns } from "@/lib/push/encryption-threads";

describe("Turns", () => {
  it("lets at most a few waiters through per event-loop turn, and every one of them in order", async () => {
    const turns = new Turns(8);
    const order: number[] = [];
    const turnOf: number[] = [];
    let turn = 0;
    // Counts event-loop turns: an I/O callback could run at each of them.
    const tick = () => {
      turn += 1;
      if (order.length < 40) setImmediate(tick);
    };
    setImmediate(tick);
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await turns.next();
        order.push(i);
        turnOf.push(turn);
      }),
    );
    expect(order).toEqual(Array.from({ length: 40 }, (_, i) => i));
    // 40 waiters, 8 per turn: five different turns, eight each.
    const perTurn = new Map<number, number>();
    for (const at of turnOf) perTurn.set(at, (perTurn.get(at) ?? 0) + 1);
    expect([...perTurn.values()]).toEqual([8, 8, 8, 8, 8]);
  });

  it("lets a lone waiter through at the next turn", async () => {
    const turns = new Turns(8);
    // Never let through, the test would time out.
    await expect(turns.next()).resolves.toBeUndefined();
    await expect(turns.next()).resolves.toBeUndefined();
  });
});
