// Broadcasts (one statement, content stored once), priorities (test sends never hold up real
// notifications) and the send-time half of H2, against a database of this file's own and the real sender.
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { queryRows } from "@/db/client";
import { pushMessages, pushPayloads, pushSubscriptions, users } from "@/db/schema";
import { ensureVapidCredentials, getVapidPublicKey } from "@/lib/push/credentials";
import { PushInputError, sendPushNotification } from "@/lib/push/send";
import { pushSenderConsumer } from "@/lib/push/sender";
import { SubscriptionRefused, saveSubscription, subscriptionInputSchema } from "@/lib/push/subscriptions";
import { WorkerHost } from "@/lib/worker/host";
import { PushDouble } from "../e2e/support/push-double";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };

let fresh: FreshDatabase;
let double: PushDouble;
let host: WorkerHost | undefined;
const people: Record<string, number> = {};

async function giveDevice(username: string) {
  const subscription = double.createSubscription(await getVapidPublicKey(fresh.handle.db));
  await saveSubscription(
    {
      userId: people[username]!,
      input: subscriptionInputSchema.parse(subscription),
      userAgent: "Firefox/128.0",
    },
    fresh.handle.db,
  );
  return subscription;
}

async function startSender(concurrency: number) {
  host = new WorkerHost(fresh.handle, "worker", quiet).register(
    pushSenderConsumer({ concurrency, pollMs: 100 }),
  );
  await host.start();
}

const countOf = async (table: typeof pushMessages | typeof pushPayloads) => fresh.handle.db.$count(table);

beforeAll(async () => {
  fresh = await freshDatabase("an_test_push_broadcast");
  await ensureVapidCredentials(fresh.handle.db);
  double = await PushDouble.start({ port: 4542 });
  for (const user of await fresh.handle.db.select().from(users)) people[user.username] = user.id;
});

afterAll(async () => {
  await host?.stop(2_000);
  await double.close();
  await fresh.drop();
});

beforeEach(async () => {
  await host?.stop(2_000);
  host = undefined;
  await fresh.handle.db.delete(pushMessages);
  await fresh.handle.db.delete(pushPayloads);
  await fresh.handle.db.delete(pushSubscriptions);
  double.reset();
});

describe("broadcasts", () => {
  it("notifies many users by id in one call, storing the content once, and every device gets it", async () => {
    const devices = [
      await giveDevice("bo"),
      await giveDevice("bo"),
      await giveDevice("steve"),
      await giveDevice("pat"),
    ];
    const result = await sendPushNotification(
      {
        userIds: [people.bo!, people.steve!, 999_999],
        title: "Office closed Friday",
        body: "The office is closed on Friday.",
        targetUrl: "/",
      },
      fresh.handle.db,
    );
    expect(result).toMatchObject({ queued: 3, users: 2 });
    expect(await countOf(pushPayloads)).toBe(1);
    expect(await countOf(pushMessages)).toBe(3);
    await startSender(8);
    const received = await double.waitForMessages(3);
    expect(new Set(received.map((message) => message.subscriptionId))).toEqual(
      new Set(devices.slice(0, 3).map((device) => device.id)),
    );
    for (const message of received) {
      expect(JSON.parse(message.payload)).toMatchObject({ notification: { title: "Office closed Friday" } });
    }
    expect(double.received(devices[3]!.id)).toHaveLength(0);
  });

  it("notifies a segment: a role, or everyone", async () => {
    await giveDevice("bo");
    await giveDevice("pat");
    await giveDevice("admin");
    const approvers = await sendPushNotification(
      { segment: { role: "approver" }, title: "Approvers", targetUrl: "/approvals" },
      fresh.handle.db,
    );
    expect(approvers).toMatchObject({ queued: 1, users: 1 });
    const everyone = await sendPushNotification(
      { segment: "all", title: "Everyone", targetUrl: "/" },
      fresh.handle.db,
    );
    expect(everyone).toMatchObject({ queued: 3, users: Object.keys(people).length });
    const perPayload = await queryRows<{ title: string; rows: number }>(
      fresh.handle.db,
      sql`select p.title, count(m.id)::int as rows from push_payloads p join push_messages m on m.payload_id = p.id
          group by p.title order by p.title`,
    );
    expect(perPayload).toEqual([
      { title: "Approvers", rows: 1 },
      { title: "Everyone", rows: 3 },
    ]);
  });

  it("stores nothing when no recipient has a device, and still works for one user by name", async () => {
    expect(
      await sendPushNotification(
        { userIds: [people.steve!], title: "Nobody", targetUrl: "/" },
        fresh.handle.db,
      ),
    ).toEqual({ queued: 0, messageIds: [], payloadId: null, users: 1 });
    expect(await countOf(pushPayloads)).toBe(0);
    await giveDevice("steve");
    await startSender(4);
    const single = await sendPushNotification(
      { userName: "Steve", title: "Just you", targetUrl: "/" },
      fresh.handle.db,
    );
    expect(single.queued).toBe(1);
    const [message] = await double.waitForMessages(1);
    expect(JSON.parse(message?.payload ?? "{}")).toMatchObject({ notification: { title: "Just you" } });
  });

  it("gives each of many simultaneous single-user calls its own result, and its own error", async () => {
    await giveDevice("bo");
    await giveDevice("steve");
    const names = Array.from({ length: 30 }, (_, i) => (i === 17 ? "nobody" : i % 2 ? "bo" : "steve"));
    const results = await Promise.allSettled(
      names.map((userName, i) =>
        sendPushNotification({ userName, title: `Call ${i}`, targetUrl: "/" }, fresh.handle.db),
      ),
    );
    const refused = results.flatMap((result, i) => (result.status === "rejected" ? [i] : []));
    expect(refused).toEqual([17]);
    expect((results[17] as PromiseRejectedResult).reason).toBeInstanceOf(PushInputError);
    const rows = await queryRows<{ id: number; title: string; user_id: number }>(
      fresh.handle.db,
      sql`select m.id, p.title, m.user_id from push_messages m join push_payloads p on p.id = m.payload_id`,
    );
    expect(rows).toHaveLength(29);
    results.forEach((result, i) => {
      if (result.status !== "fulfilled") return;
      expect(result.value.queued).toBe(1);
      const row = rows.find((r) => r.id === result.value.messageIds[0]);
      expect(row).toMatchObject({ title: `Call ${i}`, user_id: people[names[i]!] });
    });
  });

  it("refuses an unclear recipient list with a message, and queues nothing", async () => {
    for (const recipients of [
      {},
      { userName: "bo", userIds: [people.bo!] },
      { userIds: [] },
      { userIds: [-1] },
      { segment: { role: "owner" } },
      { segment: "everyone" },
    ]) {
      const error = await sendPushNotification(
        { ...recipients, title: "Hi", targetUrl: "/" } as never,
        fresh.handle.db,
      ).catch((caught: unknown) => caught);
      expect(error, JSON.stringify(recipients)).toBeInstanceOf(PushInputError);
    }
    expect(await countOf(pushMessages)).toBe(0);
  });
});

describe("priorities", () => {
  it("claims a real notification before a backlog of test sends", async () => {
    const device = await giveDevice("bo");
    const backlog = 600;
    for (let i = 0; i < backlog; i++) {
      await sendPushNotification(
        { userName: "bo", title: "Test notification", targetUrl: "/settings/push", priority: "low" },
        fresh.handle.db,
      );
    }
    await startSender(2);
    await double.waitForMessages(5);
    const real = await sendPushNotification(
      { userName: "bo", title: "Reimbursement Approved", targetUrl: "/reimbursements/1" },
      fresh.handle.db,
    );
    const arrived = await waitFor(
      async () =>
        double.received().findIndex((message) => message.headers.topic === `m${real.messageIds[0]}`),
      (index) => index >= 0,
      20_000,
    );
    expect(arrived).toBeGreaterThanOrEqual(0);
    // Delivered while most of the test sends were still waiting, not after all of them.
    expect(arrived).toBeLessThan(backlog / 2);
    expect(double.received(device.id).length).toBeLessThan(backlog + 1);
  });
});

describe("the host checked is the host contacted (send time)", () => {
  it("never sends to a stored endpoint that is not in normalised form", async () => {
    const device = await giveDevice("bo");
    // "https:localhost:4542/…" passes a WHATWG host check but url.parse reads an empty host (→ localhost:443).
    const crafted = device.endpoint.replace("https://", "https:");
    await expect(
      saveSubscription(
        {
          userId: people.bo!,
          input: subscriptionInputSchema.parse({ ...device, endpoint: crafted }),
          userAgent: "",
        },
        fresh.handle.db,
      ),
    ).rejects.toBeInstanceOf(SubscriptionRefused);
    await fresh.handle.db
      .update(pushSubscriptions)
      .set({ endpoint: crafted })
      .where(eq(pushSubscriptions.endpoint, device.endpoint));
    await startSender(2);
    const { messageIds } = await sendPushNotification(
      { userName: "bo", title: "SSRF?", targetUrl: "/" },
      fresh.handle.db,
    );
    const [row] = await waitFor(
      () => fresh.handle.db.select().from(pushMessages).where(eq(pushMessages.id, messageIds[0]!)),
      (rows) => rows[0]?.status === "failed",
    );
    expect(row?.lastError).toContain("normalised form");
    expect(double.requests).toHaveLength(0);
  });
});
