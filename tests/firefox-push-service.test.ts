// The local push service of the Firefox tests (SPEC F1), checked without a browser: a client speaking
// Mozilla's WebSocket push protocol the way Firefox's PushServiceWebSocket.sys.mjs does, and web-push
// (what our sender uses) on the RFC 8030 side. The push double's checks and scripted answers must apply.
import { createECDH, randomBytes } from "node:crypto";
import ece from "http_ece";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import webpush from "web-push";
import WebSocket from "ws";
import { FirefoxPushService } from "../e2e/support/firefox-push-service";

interface Frame {
  messageType?: string;
  [key: string]: unknown;
}

/** A push client with its own keys, as Firefox keeps them per subscription. */
async function connect(url: string, uaid?: string) {
  const socket = new WebSocket(url, "push-notification");
  const frames: Frame[] = [];
  const waiters = new Set<() => void>();
  socket.on("message", (data) => {
    frames.push(JSON.parse(String(data)) as Frame);
    for (const wake of waiters) wake();
  });
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const next = async (type: string, timeoutMs = 2_000): Promise<Frame> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = frames.findIndex((frame) => frame.messageType === type);
      if (index >= 0) return frames.splice(index, 1)[0]!;
      if (Date.now() > deadline) throw new Error(`no ${type} frame`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        setTimeout(wake, 50);
      });
    }
  };
  const send = (frame: Frame) => socket.send(JSON.stringify(frame));
  send({ messageType: "hello", use_webpush: true, broadcasts: {}, ...(uaid ? { uaid } : {}) });
  const hello = await next("hello");
  return { socket, frames, next, send, hello };
}

const vapid = webpush.generateVAPIDKeys();
const options = {
  vapidDetails: {
    subject: "mailto:test@example.com",
    publicKey: vapid.publicKey,
    privateKey: vapid.privateKey,
  },
  TTL: 60,
};

async function subscribe(
  client: Awaited<ReturnType<typeof connect>>,
  channelID: string,
  key = vapid.publicKey,
) {
  const ecdh = createECDH("prime256v1");
  ecdh.generateKeys();
  const auth = randomBytes(16);
  // Firefox sends the application server key base64url-encoded with padding.
  client.send({ messageType: "register", channelID, key: `${key}=` });
  const reply = await client.next("register");
  expect(reply).toMatchObject({ status: 200, channelID });
  const subscription = {
    endpoint: String(reply.pushEndpoint),
    keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
  };
  const decrypt = (data: string) =>
    ece
      .decrypt(Buffer.from(data, "base64url"), { version: "aes128gcm", privateKey: ecdh, authSecret: auth })
      .toString();
  return { subscription, decrypt };
}

let service: FirefoxPushService;

beforeAll(async () => {
  service = await FirefoxPushService.start();
});

afterAll(async () => {
  await service.close();
});

describe("the Firefox push service", () => {
  it("answers hello, registers a channel and relays an encrypted message that the client decrypts", async () => {
    const client = await connect(service.url);
    expect(client.hello).toMatchObject({ messageType: "hello", status: 200, use_webpush: true });
    expect(String(client.hello.uaid)).toMatch(/^[0-9a-f]{32}$/);
    const { subscription, decrypt } = await subscribe(client, "c-1");
    expect(subscription.endpoint.startsWith(service.double.origin)).toBe(true);

    const result = await webpush.sendNotification(subscription, '{"title":"Hi"}', options);
    expect(result.statusCode).toBe(201);
    const notification = await client.next("notification");
    expect(notification).toMatchObject({ channelID: "c-1", headers: { encoding: "aes128gcm" } });
    expect(decrypt(String(notification.data))).toBe('{"title":"Hi"}');

    client.send({
      messageType: "ack",
      updates: [{ channelID: "c-1", version: notification.version, code: 100 }],
    });
    await service.waitFor("the ack", () => service.deliveries.find((d) => d.ackCode === 100));
    client.socket.terminate();
  });

  it("keeps the double's checks: no or wrong VAPID is refused and nothing reaches the browser", async () => {
    const client = await connect(service.url);
    const { subscription } = await subscribe(client, "c-2");
    const unsigned = await fetch(subscription.endpoint, {
      method: "POST",
      headers: { ttl: "60", "content-encoding": "aes128gcm" },
      body: randomBytes(200),
    });
    expect(unsigned.status).toBe(401);
    // Signed, but the body is no aes128gcm record (RFC 8188 header): refused before it reaches Firefox.
    const { "Content-Length": _length, ...headers } = webpush.generateRequestDetails(
      subscription,
      "x",
      options,
    ).headers as Record<string, string>;
    const garbled = await fetch(subscription.endpoint, {
      method: "POST",
      headers,
      body: randomBytes(200),
    });
    expect(garbled.status).toBe(400);
    expect(await garbled.text()).toMatch(/aes128gcm/);
    const other = webpush.generateVAPIDKeys();
    const wrongKey = await webpush
      .sendNotification(subscription, "x", {
        ...options,
        vapidDetails: { ...options.vapidDetails, publicKey: other.publicKey, privateKey: other.privateKey },
      })
      .catch((error: { statusCode: number }) => error);
    expect(wrongKey).toMatchObject({ statusCode: 403 });
    const noVapid = await webpush
      .sendNotification(subscription, "x", { TTL: 60 })
      .catch((error: { statusCode: number }) => error);
    expect(noVapid).toMatchObject({ statusCode: 401 });
    expect(client.frames.filter((frame) => frame.messageType === "notification")).toHaveLength(0);
    client.socket.terminate();
  });

  it("plays scripted answers (500, then 201) and delivers only what it accepted", async () => {
    const client = await connect(service.url);
    const { subscription, decrypt } = await subscribe(client, "c-3");
    const relayId = subscription.endpoint.split("/").at(-1)!;
    service.double.respond(relayId, 500, { status: 429, retryAfter: "7" });
    await expect(webpush.sendNotification(subscription, "one", options)).rejects.toMatchObject({
      statusCode: 500,
    });
    await expect(webpush.sendNotification(subscription, "two", options)).rejects.toMatchObject({
      statusCode: 429,
      headers: expect.objectContaining({ "retry-after": "7" }),
    });
    await webpush.sendNotification(subscription, "three", options);
    const notification = await client.next("notification");
    expect(decrypt(String(notification.data))).toBe("three");
    expect(client.frames.filter((frame) => frame.messageType === "notification")).toHaveLength(0);
    client.socket.terminate();
  });

  it("stores unacknowledged messages and sends them again when the browser says hello with its UAID", async () => {
    const first = await connect(service.url);
    const { subscription, decrypt } = await subscribe(first, "c-4");
    first.socket.terminate();
    await service.waitFor("the disconnect", () => first.socket.readyState === WebSocket.CLOSED);
    await webpush.sendNotification(subscription, "while away", options);
    const again = await connect(service.url, String(first.hello.uaid));
    expect(again.hello.uaid).toBe(first.hello.uaid);
    expect(decrypt(String((await again.next("notification")).data))).toBe("while away");
    again.socket.terminate();
  });

  it("unregister and a renewed UAID make the old endpoints answer 410 Gone", async () => {
    const client = await connect(service.url);
    const { subscription: dropped } = await subscribe(client, "c-5");
    const { subscription: forgotten } = await subscribe(client, "c-6");
    client.send({ messageType: "unregister", channelID: "c-5", code: 200 });
    expect(await client.next("unregister")).toMatchObject({ status: 200, channelID: "c-5" });
    await expect(webpush.sendNotification(dropped, "x", options)).rejects.toMatchObject({ statusCode: 410 });

    service.renewUaidOnNextHello();
    client.socket.terminate();
    const renewed = await connect(service.url, String(client.hello.uaid));
    expect(renewed.hello.uaid).not.toBe(client.hello.uaid);
    await expect(webpush.sendNotification(forgotten, "x", options)).rejects.toMatchObject({
      statusCode: 410,
    });
    renewed.socket.terminate();
  });
});
