// Abuse limits and device ownership (SPEC H8, H10): a device cap per user with the oldest replaced,
// test sends rate-limited, and a known endpoint never moves to someone holding other keys.
import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushSubscriptions, users } from "@/db/schema";
import { consumeTestSend, TEST_SEND_LIMIT } from "@/lib/auth/throttle";
import { MAX_DEVICES_PER_USER, SubscriptionRefused, saveSubscription } from "@/lib/push/subscriptions";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

const keys = () => ({
  p256dh: Buffer.concat([Buffer.from([4]), randomBytes(64)]).toString("base64url"),
  auth: randomBytes(16).toString("base64url"),
});
const endpoint = (name: string) => `https://localhost:4541/push/${name}`;

describe("devices and test sends", () => {
  let fresh: FreshDatabase;
  let bo: number;
  let steve: number;
  const devicesOf = async (userId: number) =>
    (
      await fresh.handle.db
        .select({ endpoint: pushSubscriptions.endpoint })
        .from(pushSubscriptions)
        .where(eq(pushSubscriptions.userId, userId))
    ).map((row) => row.endpoint);

  beforeAll(async () => {
    fresh = await freshDatabase("security_devices");
    const all = await fresh.handle.db.select().from(users);
    bo = all.find((u) => u.username === "bo")!.id;
    steve = all.find((u) => u.username === "steve")!.id;
  });
  afterAll(async () => {
    await fresh?.drop();
  });

  it(`keeps at most ${MAX_DEVICES_PER_USER} devices per user, replacing the oldest`, async () => {
    for (let i = 1; i <= MAX_DEVICES_PER_USER + 5; i++) {
      await saveSubscription(
        { userId: bo, input: { endpoint: endpoint(`bo-${i}`), keys: keys() }, userAgent: "Firefox" },
        fresh.handle.db,
      );
    }
    const kept = await devicesOf(bo);
    expect(kept).toHaveLength(MAX_DEVICES_PER_USER);
    for (let i = 1; i <= 5; i++) expect(kept).not.toContain(endpoint(`bo-${i}`));
    expect(kept).toContain(endpoint(`bo-${MAX_DEVICES_PER_USER + 5}`));
  });

  it("refuses another user's endpoint with other keys; the same browser re-subscribes cleanly", async () => {
    const device = keys();
    const input = { endpoint: endpoint("shared"), keys: device };
    await saveSubscription({ userId: bo, input, userAgent: "Chrome" }, fresh.handle.db);

    const stolen = saveSubscription(
      { userId: steve, input: { endpoint: endpoint("shared"), keys: keys() }, userAgent: "curl" },
      fresh.handle.db,
    );
    await expect(stolen).rejects.toBeInstanceOf(SubscriptionRefused);
    await expect(stolen).rejects.toMatchObject({ code: "endpoint_taken" });
    expect(await devicesOf(bo)).toContain(endpoint("shared"));
    expect(await devicesOf(steve)).not.toContain(endpoint("shared"));

    // Steve signs in on Bo's browser: the browser's own subscription (same keys) moves to Steve.
    await saveSubscription({ userId: steve, input, userAgent: "Chrome" }, fresh.handle.db);
    expect(await devicesOf(steve)).toEqual([endpoint("shared")]);
    expect(await devicesOf(bo)).not.toContain(endpoint("shared"));
  });

  it(`allows ${TEST_SEND_LIMIT.points} test sends a minute per user, then says how long to wait`, async () => {
    for (let i = 0; i < TEST_SEND_LIMIT.points; i++) {
      expect(await consumeTestSend({ userId: bo }, fresh.handle.db)).toBe(0);
    }
    const wait = await consumeTestSend({ userId: bo }, fresh.handle.db);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(TEST_SEND_LIMIT.duration);
    expect(await consumeTestSend({ userId: steve }, fresh.handle.db)).toBe(0);
  });
});
