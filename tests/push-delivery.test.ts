import { readFileSync } from "node:fs";
import http2 from "node:http2";
import path from "node:path";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { getDatabase, getDb } from "@/db/client";
import { pushCredentials, pushMessages, pushSubscriptions, users } from "@/db/schema";
import { getVapidKeys, getVapidPublicKey, regenerateVapidCredentials } from "@/lib/push/credentials";
import { pushQueueNow } from "@/lib/push/queue";
import { open } from "@/lib/push/secret-box";
import { PushInputError, sendPushNotification } from "@/lib/push/send";
import { pushSenderConsumer } from "@/lib/push/sender";
import { SubscriptionRefused, saveSubscription, subscriptionInputSchema } from "@/lib/push/subscriptions";
import { PushTransport } from "@/lib/push/transport";
import { WorkerHost } from "@/lib/worker/host";
import { PushDouble } from "../e2e/support/push-double";
import { waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };

let double: PushDouble;
let host: WorkerHost;
let userId: number;

async function subscribeDevice() {
  const subscription = double.createSubscription(await getVapidPublicKey());
  const input = subscriptionInputSchema.parse(subscription);
  const row = await saveSubscription({
    userId,
    input,
    userAgent: "Mozilla/5.0 (Linux; Android 14) Chrome/126.0",
  });
  return { ...subscription, rowId: row.id };
}

async function messageRows(ids: number[]) {
  return getDb().select().from(pushMessages).where(inArray(pushMessages.id, ids)).orderBy(pushMessages.id);
}

const waitForRows = (
  ids: number[],
  done: (rows: Awaited<ReturnType<typeof messageRows>>) => boolean,
  timeoutMs?: number,
) => waitFor(() => messageRows(ids), done, timeoutMs);

beforeAll(async () => {
  double = await PushDouble.start({ port: 4541 });
  const [bo] = await getDb().select().from(users).where(eq(users.username, "bo"));
  userId = bo!.id;
  host = new WorkerHost(getDatabase(), "worker", quiet).register(pushSenderConsumer({ pollMs: 100 }));
  await host.start();
});

afterAll(async () => {
  await host.stop(2_000);
  await double.close();
});

beforeEach(async () => {
  await getDb().delete(pushMessages);
  await getDb().delete(pushSubscriptions);
  double.reset();
});

describe("sendPushNotification → sender → push service", () => {
  it("notifies every device of the user, encrypted and signed, within a second", async () => {
    const phone = await subscribeDevice();
    const laptop = await subscribeDevice();
    const started = Date.now();
    const { queued, messageIds } = await sendPushNotification({
      userName: "BO",
      title: "Reimbursement Approved",
      body: "Your reimbursement of $59.95 from Joe's Pharmacy was approved.",
      targetUrl: "/reimbursements/42",
      urgency: "high",
    });
    expect(queued).toBe(2);
    const received = await double.waitForMessages(2, { timeoutMs: 5_000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(3_000);
    expect(new Set(received.map((m) => m.subscriptionId))).toEqual(new Set([phone.id, laptop.id]));
    const payload = JSON.parse(received[0]!.payload);
    expect(payload).toMatchObject({
      web_push: 8030,
      notification: {
        title: "Reimbursement Approved",
        body: "Your reimbursement of $59.95 from Joe's Pharmacy was approved.",
        navigate: "http://localhost:3000/reimbursements/42",
      },
    });
    expect(received[0]!.headers).toMatchObject({ ttl: "86400", urgency: "high" });
    expect(received[0]!.headers.topic).toMatch(/^m\d+$/);
    expect(received[0]!.jwt).toMatchObject({
      aud: double.origin,
      sub: "mailto:push-tests@approval-notifications.example.com",
    });
    const rows = await waitForRows(messageIds, (r) => r.every((row) => row.status === "sent"));
    expect(rows.map((row) => [row.status, row.attempts])).toEqual([
      ["sent", 1],
      ["sent", 1],
    ]);
    const [device] = await getDb()
      .select()
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.id, phone.rowId));
    expect(device?.lastSuccessAt).toBeInstanceOf(Date);
    console.log(`enqueue → delivered (2 devices): ${elapsed} ms`);
  });

  it("hands notifications made in the sender's own process straight to it; test sends wait their turn", async () => {
    const phone = await subscribeDevice();
    const laptop = await subscribeDevice();
    const adopted = () => host.status().consumers[0]?.adopted ?? 0;
    const before = adopted();
    const { messageIds } = await sendPushNotification({
      userName: "bo",
      title: "Handed over",
      targetUrl: "/",
    });
    const received = await double.waitForMessages(2);
    expect(new Set(received.map((m) => m.subscriptionId))).toEqual(new Set([phone.id, laptop.id]));
    // Written already leased to this process's sender and run at once: no claim took them.
    expect(adopted() - before).toBe(2);
    const rows = await waitForRows(messageIds, (r) => r.every((row) => row.status === "sent"));
    expect(rows.map((row) => [row.status, row.attempts, row.leaseOwner])).toEqual([
      ["sent", 1, null],
      ["sent", 1, null],
    ]);
    // A low-priority message is queued like any other and claimed: it never goes ahead of waiting work.
    const low = await sendPushNotification({
      userName: "bo",
      title: "Test",
      targetUrl: "/",
      priority: "low",
    });
    await double.waitForMessages(4);
    expect(adopted() - before).toBe(2);
    const lowRows = await waitForRows(low.messageIds, (r) => r.every((row) => row.status === "sent"));
    expect(lowRows.map((row) => [row.status, row.attempts])).toEqual([
      ["sent", 1],
      ["sent", 1],
    ]);
  });

  it("reuses one VAPID token per push service instead of signing each message", async () => {
    await subscribeDevice();
    await sendPushNotification({ userName: "bo", title: "One", targetUrl: "/" });
    await double.waitForMessages(1);
    await sendPushNotification({ userName: "bo", title: "Two", targetUrl: "/" });
    const [first, second] = await double.waitForMessages(2);
    expect(second!.jwt.exp).toBe(first!.jwt.exp);
  });

  it("retries after a 500 and delivers exactly once", async () => {
    const device = await subscribeDevice();
    double.respond(device.id, 500);
    const { messageIds } = await sendPushNotification({ userName: "bo", title: "Retry me", targetUrl: "/" });
    const [row] = await waitForRows(messageIds, (r) => r[0]?.status === "sent", 8_000);
    expect(row).toMatchObject({ status: "sent", attempts: 2 });
    expect(double.received(device.id)).toHaveLength(1);
    expect(double.requests.filter((r) => r.subscriptionId === device.id)).toHaveLength(2);
  });

  it("waits for Retry-After after a 429", async () => {
    const device = await subscribeDevice();
    double.respond(device.id, { status: 429, retryAfter: "2" });
    const { messageIds } = await sendPushNotification({ userName: "bo", title: "Slow down", targetUrl: "/" });
    const [row] = await waitForRows(messageIds, (r) => r[0]?.status === "sent", 8_000);
    expect(row?.status).toBe("sent");
    const [first, second] = double.requests.filter((r) => r.subscriptionId === device.id);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1_900);
  });

  it.each([404, 410])(
    "forgets a device whose subscription is gone (%i) and never retries",
    async (status) => {
      const device = await subscribeDevice();
      double.respond(device.id, status);
      const { messageIds } = await sendPushNotification({ userName: "bo", title: "Gone", targetUrl: "/" });
      // The sender marks the row failed, then forgets the device: wait for both.
      const [row] = await waitForRows(
        messageIds,
        (r) => r[0]?.status === "failed" && r[0]?.subscriptionId === null,
      );
      expect(row).toMatchObject({
        status: "failed",
        attempts: 1,
        lastStatusCode: status,
        subscriptionId: null,
      });
      expect(await getDb().$count(pushSubscriptions, eq(pushSubscriptions.id, device.rowId))).toBe(0);
      await pushQueueNow({ force: true });
      // A message queued after the forced run is delivered: the queue has moved past the gone one.
      const marker = await subscribeDevice();
      await sendPushNotification({ userName: "bo", title: "Marker", targetUrl: "/" });
      await double.waitForMessages(1, { subscriptionId: marker.id });
      expect(double.requests.filter((r) => r.subscriptionId === device.id)).toHaveLength(1);
      expect((await messageRows(messageIds))[0]?.status).toBe("failed");
    },
  );

  it("fails a 413 permanently and keeps the device", async () => {
    const device = await subscribeDevice();
    double.respond(device.id, 413);
    const { messageIds } = await sendPushNotification({ userName: "bo", title: "Too big", targetUrl: "/" });
    const [row] = await waitForRows(messageIds, (r) => r[0]?.status === "failed");
    expect(row).toMatchObject({ status: "failed", attempts: 1, lastStatusCode: 413 });
    expect(row?.lastError).toContain("too large");
    const [kept] = await getDb()
      .select()
      .from(pushSubscriptions)
      .where(eq(pushSubscriptions.id, device.rowId));
    expect(kept?.lastError).toContain("too large");
  });

  it("sends over HTTP/2 where the push service offers it: many messages, one connection", async () => {
    const devices = await Promise.all(Array.from({ length: 6 }, () => subscribeDevice()));
    await sendPushNotification({ userName: "bo", title: "Streams", targetUrl: "/" });
    const received = await double.waitForMessages(devices.length, { timeoutMs: 5_000 });
    expect(received.map((message) => message.httpVersion)).toEqual(devices.map(() => "2.0"));
    // Six sends in flight at once: HTTP/1.1 would have opened a socket for each.
    expect(double.openConnections).toBe(1);
  });

  it("closes its connections to push services when its host stops, and opens one again when started", async () => {
    await subscribeDevice();
    await sendPushNotification({ userName: "bo", title: "Before stopping", targetUrl: "/" });
    await double.waitForMessages(1, { timeoutMs: 5_000 });
    expect(double.openConnections).toBe(1);
    await host.stop(2_000);
    await waitFor(
      async () => double.openConnections,
      (open) => open === 0,
    );
    host = new WorkerHost(getDatabase(), "worker", quiet).register(pushSenderConsumer({ pollMs: 100 }));
    await host.start();
    await sendPushNotification({ userName: "bo", title: "After starting again", targetUrl: "/" });
    const received = await double.waitForMessages(2, { timeoutMs: 5_000 });
    expect(received.map((message) => JSON.parse(message.payload).notification.title)).toEqual([
      "Before stopping",
      "After starting again",
    ]);
    expect(double.openConnections).toBe(1);
  });

  it("keeps to a push service's stream limit: sends beyond it wait their turn, none refused", async () => {
    const strict = await PushDouble.start({ port: 4543, maxConcurrentStreams: 2 });
    const transport = new PushTransport({ proxy: undefined, maxSockets: 4, timeoutMs: 5_000 });
    try {
      // Six sends at once on a new connection to a service that allows two streams at a time. Sent before
      // its SETTINGS arrived, four would be refused (REFUSED_STREAM) and go back to the queue for a retry.
      const url = new URL(`${strict.origin}/push/no-such-subscription`);
      const answers = await Promise.allSettled(
        Array.from({ length: 6 }, () => transport.post(url, { ttl: "60" }, Buffer.from("x"))),
      );
      expect(
        answers.map((answer) =>
          answer.status === "fulfilled" ? answer.value.statusCode : String(answer.reason),
        ),
      ).toEqual([404, 404, 404, 404, 404, 404]);
    } finally {
      transport.close();
      await strict.close();
    }
  });

  it("a push service going away costs no send: the next ones go on a new connection at once", async () => {
    const service = await PushDouble.start({ port: 4543 });
    const transport = new PushTransport({ proxy: undefined, maxSockets: 4, timeoutMs: 5_000 });
    try {
      const url = new URL(`${service.origin}/push/no-such-subscription`);
      const send = () =>
        transport.post(url, { ttl: "60" }, Buffer.from("x")).then(
          (answer) => answer.statusCode,
          (error: unknown) => String(error),
        );
      expect(await send()).toBe(404);
      service.goAway();
      expect(await Promise.all([send(), send(), send()])).toEqual([404, 404, 404]);
    } finally {
      transport.close();
      await service.close();
    }
  });

  it("gives up on a send the push service never answers, cancels it, and keeps the connection for others", async () => {
    const certs = path.join(import.meta.dirname, "../e2e/support/certs");
    const cancelled: string[] = [];
    const silent = http2.createSecureServer({
      key: readFileSync(path.join(certs, "push-double.key")),
      cert: readFileSync(path.join(certs, "push-double.crt")),
    });
    silent.on("stream", (stream, headers) => {
      stream.on("close", () => {
        if (stream.rstCode === http2.constants.NGHTTP2_CANCEL) cancelled.push(String(headers[":path"]));
      });
      stream.resume();
      // Answers everything but /push/silent.
      if (headers[":path"] !== "/push/silent")
        stream.on("end", () => stream.respond({ ":status": 201 }, { endStream: true }));
    });
    await new Promise<void>((resolve) => silent.listen(4544, "127.0.0.1", resolve));
    const transport = new PushTransport({ proxy: undefined, maxSockets: 4, timeoutMs: 300 });
    try {
      const send = (where: string) =>
        transport.post(new URL(`https://localhost:4544/push/${where}`), { ttl: "60" }, Buffer.from("x")).then(
          (answer) => answer.statusCode,
          (error: unknown) => String(error),
        );
      const started = Date.now();
      const [unanswered, answered] = await Promise.all([send("silent"), send("other")]);
      expect(answered).toBe(201);
      expect(unanswered).toBe("Error: Socket timeout");
      // The timeout is a deadline for the send (checked every quarter of it), not a hang.
      expect(Date.now() - started).toBeLessThan(3_000);
      await waitFor(
        async () => cancelled,
        (paths) => paths.length === 1,
      );
      expect(cancelled).toEqual(["/push/silent"]);
      // The connection stays: the next send goes on it.
      expect(await send("after")).toBe(201);
    } finally {
      transport.close();
      silent.close();
    }
  });

  it("falls back to HTTP/1.1 for a push service without HTTP/2", async () => {
    const older = await PushDouble.start({ port: 4543, http1Only: true });
    try {
      const subscription = older.createSubscription(await getVapidPublicKey());
      await saveSubscription({
        userId,
        input: subscriptionInputSchema.parse(subscription),
        userAgent: "Mozilla/5.0 (Windows NT 10.0) Edge/126.0",
      });
      await sendPushNotification({ userName: "bo", title: "Over HTTP/1.1", targetUrl: "/reimbursements/7" });
      const [message] = await older.waitForMessages(1, { timeoutMs: 5_000 });
      expect(message?.httpVersion).toBe("1.1");
      expect(JSON.parse(message!.payload).notification.title).toBe("Over HTTP/1.1");
      expect(older.rejections).toEqual([]);
    } finally {
      await older.close();
    }
  });

  it("keeps delivering to other devices while one push service hangs", async () => {
    const stuck = await subscribeDevice();
    const healthy = await subscribeDevice();
    double.respond(stuck.id, "hang");
    await sendPushNotification({ userName: "bo", title: "Hello", targetUrl: "/" });
    await double.waitForMessages(1, { subscriptionId: healthy.id, timeoutMs: 3_000 });
    expect(double.received(stuck.id)).toHaveLength(0);
  });

  it("sends nothing for a rolled-back transaction, and delivers once committed", async () => {
    await subscribeDevice();
    await expect(
      getDb().transaction(async (tx) => {
        await sendPushNotification({ userName: "bo", title: "Rolled back", targetUrl: "/" }, tx);
        throw new Error("decision failed");
      }),
    ).rejects.toThrow("decision failed");
    await getDb().transaction(async (tx) => {
      await sendPushNotification({ userName: "bo", title: "Committed", targetUrl: "/" }, tx);
    });
    await double.waitForMessages(1);
    // A later message arrives second: nothing of the rolled-back transaction was queued before it.
    await sendPushNotification({ userName: "bo", title: "Marker", targetUrl: "/" });
    const messages = await double.waitForMessages(2);
    expect(messages.map((m) => JSON.parse(m.payload).notification.title)).toEqual(["Committed", "Marker"]);
  });

  it("refuses bad input and enqueues nothing", async () => {
    await subscribeDevice();
    const attempts: [object, string][] = [
      [{ userName: "nobody", title: "Hi", targetUrl: "/" }, "userName"],
      [{ userName: "bo", title: "", targetUrl: "/" }, "title"],
      [{ userName: "bo", title: "Hi", targetUrl: "javascript:alert(1)" }, "targetUrl"],
      [{ userName: "bo", title: "Hi", targetUrl: "/", iconUrl: "data:image/png;base64,xx" }, "iconUrl"],
      [{ userName: "bo", title: "Hi", body: "😀".repeat(1000), targetUrl: "/" }, "body"],
      [{ userName: "bo", title: "x".repeat(121), targetUrl: "/" }, "title"],
      [{ userName: "bo", title: 42, targetUrl: "/" }, "title"],
    ];
    for (const [input, field] of attempts) {
      const error = await sendPushNotification(input as never).catch((e: unknown) => e);
      expect(error, JSON.stringify(input).slice(0, 80)).toBeInstanceOf(PushInputError);
      expect(Object.keys((error as PushInputError).fieldErrors)).toContain(field);
    }
    expect(await getDb().$count(pushMessages)).toBe(0);
  });

  it("returns zero queued for a user without devices", async () => {
    expect(await sendPushNotification({ userName: "steve", title: "Hi", targetUrl: "/" })).toEqual({
      queued: 0,
      messageIds: [],
      payloadId: null,
      users: 1,
    });
  });
});

describe("subscriptions and credentials", () => {
  it("refuses endpoints off the allow-list, without https, on private addresses, or malformed", async () => {
    const good = double.createSubscription(await getVapidPublicKey());
    for (const endpoint of [
      "https://evil.example.com/push/1",
      "http://localhost:4541/push/1",
      "https://10.0.0.5/push",
      "https://localhost:9999/push/1",
      "https://[::1]:4541/push",
    ]) {
      const input = subscriptionInputSchema.parse({ ...good, endpoint });
      await expect(saveSubscription({ userId, input, userAgent: "" })).rejects.toBeInstanceOf(
        SubscriptionRefused,
      );
    }
    expect(
      subscriptionInputSchema.safeParse({ endpoint: good.endpoint, keys: { p256dh: "abc", auth: "x" } })
        .success,
    ).toBe(false);
    expect(await getDb().$count(pushSubscriptions)).toBe(0);
  });

  it("never contacts a stored endpoint that is not allowed any more", async () => {
    const device = await subscribeDevice();
    await getDb()
      .update(pushSubscriptions)
      .set({ endpoint: "https://169.254.169.254/latest" })
      .where(eq(pushSubscriptions.id, device.rowId));
    const { messageIds } = await sendPushNotification({ userName: "bo", title: "SSRF?", targetUrl: "/" });
    const [row] = await waitForRows(messageIds, (r) => r[0]?.status === "failed");
    expect(row?.lastError).toContain("not allowed");
    expect(double.requests).toHaveLength(0);
  });

  it("keeps the private key encrypted at rest", async () => {
    const keys = await getVapidKeys();
    const [row] = await getDb().select().from(pushCredentials);
    expect(row?.privateKeyEncrypted).not.toContain(keys.privateKey);
    expect(() =>
      open(row!.privateKeyEncrypted, "another-secret-another-secret-another", "vapid-private-key"),
    ).toThrow();
  });

  it("regenerating credentials clears subscriptions and the queue; new subscriptions work", async () => {
    const old = await subscribeDevice();
    double.respond(old.id, "hang");
    await sendPushNotification({ userName: "bo", title: "Pending", targetUrl: "/" });
    const before = await getVapidPublicKey();
    const result = await regenerateVapidCredentials();
    expect(result.publicKey).not.toBe(before);
    expect(result.removedSubscriptions).toBe(1);
    expect(await getDb().$count(pushSubscriptions)).toBe(0);
    expect(await getDb().$count(pushMessages)).toBe(0);
    const fresh = await subscribeDevice();
    expect(fresh.applicationServerKey).toBe(result.publicKey);
    await sendPushNotification({ userName: "bo", title: "After rotation", targetUrl: "/" });
    const [message] = await double.waitForMessages(1, { subscriptionId: fresh.id });
    expect(JSON.parse(message!.payload).notification.title).toBe("After rotation");
    expect(double.rejections.filter((r) => r.subscriptionId === fresh.id)).toEqual([]);
  });
});
