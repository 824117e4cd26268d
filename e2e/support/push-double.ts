// A local stand-in for FCM / Mozilla / Apple push services. It speaks HTTPS (HTTP/2, and HTTP/1.1 for
// clients that do not offer h2, such as web-push's sendNotification) with a certificate the app trusts
// through NODE_EXTRA_CA_CERTS, verifies the VAPID JWT (RFC 8292) and decrypts the aes128gcm body
// (RFC 8291) with the subscription's private key, exactly as a real push service and browser would.
import { createECDH, createPublicKey, randomBytes, randomUUID, verify } from "node:crypto";
import { readFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import path from "node:path";
import ece from "http_ece";

const certs = path.join(import.meta.dirname, "certs");

export interface DoubleSubscription {
  id: string;
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
  applicationServerKey: string;
}

export interface ReceivedMessage {
  subscriptionId: string;
  payload: string;
  headers: { ttl: string | undefined; urgency: string | undefined; topic: string | undefined };
  jwt: { aud: string; exp: number; sub: string };
  receivedAt: number;
  status: number;
  /** "2.0" or "1.1": the protocol the sender used. */
  httpVersion: string;
}

export interface Rejection {
  subscriptionId: string;
  status: number;
  reason: string;
}

/** What to answer next: a status code (with optional Retry-After / body), or never answer. */
export type Behaviour = number | "hang" | { status: number; retryAfter?: string; body?: string };

interface Stored extends DoubleSubscription {
  ecdh: ReturnType<typeof createECDH>;
}

/**
 * A subscription whose private key lives in a real browser (e2e/support/firefox-push-service.ts): the
 * double runs every check it can without the key, answers as scripted, and hands an accepted body on.
 */
export interface Relay {
  applicationServerKey: string;
  deliver(body: Buffer, headers: ReceivedMessage["headers"]): void;
}

/** RFC 8188 §2.1 / RFC 8291 §4 header of an aes128gcm body: why it is malformed, or null. */
export function aes128gcmHeaderProblem(body: Buffer): string | null {
  // salt (16) | record size (4) | key id length (1) | key id (the sender's ephemeral P-256 key, 65)
  if (body.length < 21 + 65 + 17) return "body is too short for an aes128gcm record";
  const recordSize = body.readUInt32BE(16);
  if (recordSize < 18) return "aes128gcm record size must be at least 18";
  if (body[20] !== 65 || body[21] !== 0x04) return "aes128gcm key id must be an uncompressed P-256 key";
  if (body.length - 86 > recordSize) return "web push messages must fit in one aes128gcm record";
  return null;
}

const b64url = (buffer: Buffer) => buffer.toString("base64url");

/** The aes128gcm body's plaintext, decrypted with the subscription's private key (throws when it cannot). */
function decrypt(body: Buffer, subscription: Stored): string {
  return ece
    .decrypt(body, {
      version: "aes128gcm",
      privateKey: subscription.ecdh,
      authSecret: subscription.keys.auth,
    })
    .toString("utf8");
}

/** Why the body does not decrypt, or null when it does. */
function decryptionFailure(body: Buffer, subscription: Stored): string | null {
  try {
    decrypt(body, subscription);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

function publicKeyFromRaw(raw: Buffer) {
  return createPublicKey({
    key: { kty: "EC", crv: "P-256", x: b64url(raw.subarray(1, 33)), y: b64url(raw.subarray(33, 65)) },
    format: "jwk",
  });
}

/** Verifies `Authorization: vapid t=<jwt>, k=<key>`; returns the claims or why it is refused. */
export function verifyVapid(
  authorization: string | undefined,
  audience: string,
  expectedKey: string,
  now = Date.now() / 1000,
): { ok: true; claims: ReceivedMessage["jwt"] } | { ok: false; status: number; reason: string } {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+),\s*k=([\w-]+)$/.exec(authorization ?? "");
  if (!match) return { ok: false, status: 401, reason: "missing or malformed vapid Authorization header" };
  const [, token, key] = match as unknown as [string, string, string];
  if (key !== expectedKey)
    return { ok: false, status: 403, reason: "k does not match the subscription's server key" };
  const [header, claims, signature] = token.split(".") as [string, string, string];
  const rawKey = Buffer.from(key, "base64url");
  if (rawKey.length !== 65) return { ok: false, status: 401, reason: "k is not a P-256 public key" };
  const valid = verify(
    "sha256",
    Buffer.from(`${header}.${claims}`),
    { key: publicKeyFromRaw(rawKey), dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!valid) return { ok: false, status: 401, reason: "JWT signature does not verify" };
  const head = JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: string };
  if (head.alg !== "ES256") return { ok: false, status: 401, reason: "JWT alg must be ES256" };
  const body = JSON.parse(Buffer.from(claims, "base64url").toString()) as ReceivedMessage["jwt"];
  if (body.aud !== audience) return { ok: false, status: 401, reason: `aud ${body.aud} is not ${audience}` };
  if (!(body.exp > now)) return { ok: false, status: 401, reason: "JWT has expired" };
  if (body.exp > now + 24 * 3600 + 60)
    return { ok: false, status: 401, reason: "exp is more than 24 h ahead" };
  if (!/^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/.test(body.sub ?? "")) {
    return { ok: false, status: 401, reason: "sub must be mailto: or https:" };
  }
  return { ok: true, claims: body };
}

/** Counters kept in every mode; the only record of deliveries in counting mode. */
export interface DoubleStats {
  /** Messages answered 201 (verified and decrypted). */
  delivered: number;
  rejected: number;
  /** Topics (the sender's message ids) received more than once. */
  duplicates: number;
  firstAt: number | null;
  lastAt: number | null;
}

/**
 * Counting mode's check of what it accepted, kept across resets: every body it answered 201 is decrypted
 * after the timed part that sent it (see `decryptLater`).
 */
export interface DecryptionCheck {
  /** Bodies answered 201 without decrypting since the double started (not cleared by reset). */
  accepted: number;
  /** Of them, decrypted with the subscription's private key. */
  decrypted: number;
  /** Of them, that did not decrypt; the first few reasons. */
  undecryptable: number;
  reasons: string[];
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across processes on one machine. */
const preciseNow = () => performance.timeOrigin + performance.now();

/** A request to the push endpoint, over HTTP/2 or HTTP/1.1 (Node's compatibility API gives both shapes). */
type PushRequest = http.IncomingMessage | http2.Http2ServerRequest;
type PushResponse = http.ServerResponse | http2.Http2ServerResponse;

export class PushDouble {
  readonly subscriptions = new Map<string, Stored>();
  readonly stats: DoubleStats = { delivered: 0, rejected: 0, duplicates: 0, firstAt: null, lastAt: null };
  /** Receive time of the first delivery per Topic header (the sender sets one per queue row). */
  readonly topicReceivedAt = new Map<string, number>();
  /** Verified VAPID tokens: a sender reuses one JWT for hours, so its signature is checked once. */
  private readonly verifiedTokens = new Map<string, { claims: ReceivedMessage["jwt"]; key: string }>();
  readonly messages: ReceivedMessage[] = [];
  readonly rejections: Rejection[] = [];
  readonly requests: { subscriptionId: string; at: number }[] = [];
  private readonly behaviours = new Map<string, Behaviour[]>();
  private readonly listeners = new Set<(message: ReceivedMessage) => void>();
  private readonly hanging = new Set<PushResponse>();
  /** Every open TLS connection (HTTP/2 or HTTP/1.1), closed with the double. */
  private readonly connections = new Set<Socket>();

  /** HTTP/2 connections, for goAway(). */
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  /** Tells every HTTP/2 client to go away (as a push service does before a restart or after many requests). */
  goAway(): void {
    for (const session of this.sessions) session.goaway();
  }

  /** TLS connections open now: one per sender over HTTP/2, one per request in flight over HTTP/1.1. */
  get openConnections(): number {
    return this.connections.size;
  }
  private readonly relays = new Map<string, Relay>();
  /** Relays the browser gave up: answered 410 Gone, as real push services do. */
  private readonly goneRelays = new Set<string>();
  private control?: http.Server;
  /** Accepted bodies not decrypted yet (counting mode with decryptLater). */
  private readonly undecrypted: { subscription: Stored; body: Buffer }[] = [];
  private readonly check: DecryptionCheck = {
    accepted: 0,
    decrypted: 0,
    undecryptable: 0,
    reasons: [],
  };

  private constructor(
    private readonly server: http2.Http2SecureServer | https.Server,
    readonly origin: string,
    /** Counting mode (benchmarks): still verifies and decrypts everything, but keeps no payloads. */
    private readonly counting: boolean,
    /**
     * Counting mode: answer 201 once everything but the decryption is checked, as a push service does (only
     * the browser holds the key), and decrypt each accepted body later, at the next reset or `/decryption`
     * call. The benchmarks' timed parts then measure the sender, not this stand-in's ECDH (~150 µs a message
     * on the machine the sender shares with it); every body is still decrypted, outside them.
     */
    private readonly decryptLater: boolean,
  ) {}

  /** Starts the HTTPS push endpoint (and, when asked, a plain-HTTP control API for other processes). */
  static async start({
    port = 0,
    controlPort,
    counting = false,
    decryptLater = false,
    http1Only = false,
    maxConcurrentStreams,
  }: {
    port?: number;
    controlPort?: number;
    counting?: boolean;
    decryptLater?: boolean;
    /** A push service that does not offer HTTP/2 (ALPN), like an older or proxied one. */
    http1Only?: boolean;
    /** HTTP/2: the most streams a client may have open at once (its SETTINGS); unlimited by default. */
    maxConcurrentStreams?: number;
  } = {}): Promise<PushDouble> {
    const tlsOptions = {
      key: readFileSync(path.join(certs, "push-double.key")),
      cert: readFileSync(path.join(certs, "push-double.crt")),
    };
    const server = http1Only
      ? https.createServer(tlsOptions)
      : http2.createSecureServer({ ...tlsOptions, allowHTTP1: true, settings: { maxConcurrentStreams } });
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    const double = new PushDouble(
      server,
      `https://localhost:${(server.address() as AddressInfo).port}`,
      counting,
      counting && decryptLater,
    );
    server.on("session", (session: http2.ServerHttp2Session) => {
      double.sessions.add(session);
      session.once("close", () => double.sessions.delete(session));
    });
    server.on("secureConnection", (socket: Socket) => {
      double.connections.add(socket);
      socket.once("close", () => double.connections.delete(socket));
    });
    server.on(
      "request",
      (request: PushRequest, response: PushResponse) => void double.handle(request, response),
    );
    if (controlPort !== undefined) await double.startControl(controlPort);
    return double;
  }

  /** What a browser's pushManager.subscribe() would return, with keys only this double can decrypt. */
  createSubscription(applicationServerKey: string): DoubleSubscription {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    const id = randomUUID();
    const subscription: Stored = {
      id,
      endpoint: `${this.origin}/push/${id}`,
      expirationTime: null,
      keys: { p256dh: b64url(ecdh.getPublicKey()), auth: b64url(randomBytes(16)) },
      applicationServerKey,
      ecdh,
    };
    this.subscriptions.set(id, subscription);
    const { ecdh: _secret, ...visible } = subscription;
    return visible;
  }

  /** An endpoint for a subscription held by a real browser; its accepted messages go to `relay`. */
  addRelay(id: string, relay: Relay): string {
    this.relays.set(id, relay);
    return `${this.origin}/push/${id}`;
  }

  removeRelay(id: string): void {
    if (this.relays.delete(id)) this.goneRelays.add(id);
  }

  /** Queues answers for a subscription ("*" for all); once used up, requests get 201. */
  respond(subscriptionId: string, ...behaviours: Behaviour[]): void {
    this.behaviours.set(subscriptionId, [...(this.behaviours.get(subscriptionId) ?? []), ...behaviours]);
  }

  received(subscriptionId?: string): ReceivedMessage[] {
    return this.messages.filter((message) => !subscriptionId || message.subscriptionId === subscriptionId);
  }

  onMessage(listener: (message: ReceivedMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async waitForMessages(
    count: number,
    { subscriptionId, timeoutMs = 10_000 }: { subscriptionId?: string; timeoutMs?: number } = {},
  ) {
    const deadline = Date.now() + timeoutMs;
    while (this.received(subscriptionId).length < count) {
      if (Date.now() > deadline) {
        throw new Error(
          `push double: ${this.received(subscriptionId).length} of ${count} messages after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received(subscriptionId);
  }

  reset(): void {
    this.decryptWaiting();
    this.messages.length = 0;
    this.rejections.length = 0;
    Object.assign(this.stats, { delivered: 0, rejected: 0, duplicates: 0, firstAt: null, lastAt: null });
    this.topicReceivedAt.clear();
    this.requests.length = 0;
    this.behaviours.clear();
    this.releaseHanging();
  }

  /** Decrypts the bodies accepted without decrypting (decryptLater); how all accepted ones fared. */
  decryptWaiting(): DecryptionCheck {
    for (const { subscription, body } of this.undecrypted.splice(0)) {
      const failure = decryptionFailure(body, subscription);
      if (failure === null) this.check.decrypted += 1;
      else {
        this.check.undecryptable += 1;
        if (this.check.reasons.length < 5) this.check.reasons.push(failure);
      }
    }
    return { ...this.check, reasons: [...this.check.reasons] };
  }

  private releaseHanging() {
    for (const response of this.hanging) {
      if ("stream" in response) response.stream.destroy();
      else response.destroy();
    }
    this.hanging.clear();
  }

  private nextBehaviour(subscriptionId: string): Behaviour {
    for (const key of [subscriptionId, "*"]) {
      const queue = this.behaviours.get(key);
      if (queue?.length) return queue.shift()!;
    }
    return 201;
  }

  private async handle(request: PushRequest, response: PushResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const id = /^\/push\/([\w-]+)$/.exec(request.url ?? "")?.[1] ?? "";
    const subscription = this.subscriptions.get(id);
    const relay = this.relays.get(id);
    if (!this.counting) this.requests.push({ subscriptionId: id, at: Date.now() });
    const refuse = (status: number, reason: string) => {
      this.stats.rejected += 1;
      this.rejections.push({ subscriptionId: id, status, reason });
      response.writeHead(status, { "content-type": "text/plain" }).end(reason);
    };
    if (request.method === "POST" && this.goneRelays.has(id)) return refuse(410, "subscription expired");
    const target = subscription ?? relay;
    if (request.method !== "POST" || !target) return refuse(404, "no such subscription");
    const vapid = this.verify(request.headers.authorization, target.applicationServerKey);
    if (!vapid.ok) return refuse(vapid.status, vapid.reason);
    if (request.headers["content-encoding"] !== "aes128gcm")
      return refuse(415, "Content-Encoding must be aes128gcm");
    if (!request.headers.ttl) return refuse(400, "TTL header is required");
    if (body.length > 4096) return refuse(413, "payload too large");
    const malformed = aes128gcmHeaderProblem(body);
    if (malformed) return refuse(400, malformed);
    let payload = "";
    // Only the browser holds a relay's private key: it decrypts, and reports a failure in its ack.
    if (subscription && !this.decryptLater)
      try {
        payload = decrypt(body, subscription);
      } catch (error) {
        return refuse(400, `cannot decrypt: ${(error as Error).message}`);
      }
    const behaviour = this.nextBehaviour(id);
    if (behaviour === "hang") {
      this.hanging.add(response);
      return;
    }
    const {
      status,
      retryAfter,
      body: answer,
    } = typeof behaviour === "number" ? { status: behaviour } : behaviour;
    if (status === 201) {
      const receivedAt = preciseNow();
      if (subscription && this.decryptLater) {
        this.check.accepted += 1;
        this.undecrypted.push({ subscription, body });
      }
      this.count(request.headers.topic as string | undefined, receivedAt);
      const headers = {
        ttl: request.headers.ttl as string | undefined,
        urgency: request.headers.urgency as string | undefined,
        topic: request.headers.topic as string | undefined,
      };
      relay?.deliver(body, headers);
      if (this.counting) {
        response.writeHead(201).end();
        return;
      }
      const message: ReceivedMessage = {
        subscriptionId: id,
        payload,
        headers,
        jwt: vapid.claims,
        receivedAt,
        status,
        httpVersion: request.httpVersion,
      };
      this.messages.push(message);
      for (const listener of this.listeners) listener(message);
      response.writeHead(201, { location: `${this.origin}/message/${randomUUID()}` }).end();
      return;
    }
    response.writeHead(status, retryAfter ? { "retry-after": retryAfter } : {}).end(answer ?? "");
  }

  /** Same checks as verifyVapid; a token whose signature already verified is not verified again. */
  private verify(authorization: string | undefined, expectedKey: string): ReturnType<typeof verifyVapid> {
    const cached = authorization ? this.verifiedTokens.get(authorization) : undefined;
    if (cached) {
      if (cached.key !== expectedKey)
        return { ok: false, status: 403, reason: "k does not match the subscription's server key" };
      if (cached.claims.exp > Date.now() / 1000) return { ok: true, claims: cached.claims };
    }
    const result = verifyVapid(authorization, this.origin, expectedKey);
    if (result.ok && authorization) {
      if (this.verifiedTokens.size > 1_000) this.verifiedTokens.clear();
      this.verifiedTokens.set(authorization, { claims: result.claims, key: expectedKey });
    }
    return result;
  }

  private count(topic: string | undefined, at: number) {
    this.stats.delivered += 1;
    this.stats.firstAt ??= at;
    this.stats.lastAt = at;
    if (!topic) return;
    if (this.topicReceivedAt.has(topic)) this.stats.duplicates += 1;
    else this.topicReceivedAt.set(topic, at);
  }

  /** Plain-HTTP control API with CORS, for Playwright workers and a browser's stubbed PushManager. */
  private async startControl(port: number) {
    const json = (response: http.ServerResponse, status: number, value: unknown) =>
      response
        .writeHead(status, {
          "content-type": "application/json",
          "access-control-allow-origin": "*",
          "access-control-allow-headers": "content-type",
        })
        .end(JSON.stringify(value));
    this.control = http.createServer(async (request, response) => {
      if (request.method === "OPTIONS") return json(response, 204, null);
      const url = new URL(request.url ?? "/", "http://control");
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const input = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
      if (url.pathname === "/health") return json(response, 200, { ok: true, origin: this.origin });
      if (url.pathname === "/subscriptions" && request.method === "POST") {
        return json(response, 201, this.createSubscription(String(input.applicationServerKey)));
      }
      if (url.pathname === "/subscriptions/bulk" && request.method === "POST") {
        const count = Math.min(100_000, Number(input.count) || 0);
        const key = String(input.applicationServerKey);
        return json(
          response,
          201,
          Array.from({ length: count }, () => this.createSubscription(key)),
        );
      }
      if (url.pathname === "/stats") {
        const topics = url.searchParams.get("topics");
        const receivedAt = topics
          ? Object.fromEntries(
              topics.split(",").map((topic) => [topic, this.topicReceivedAt.get(topic) ?? null]),
            )
          : undefined;
        const cpu = process.cpuUsage();
        return json(response, 200, { ...this.stats, receivedAt, cpuMs: (cpu.user + cpu.system) / 1000 });
      }
      if (url.pathname === "/decryption" && request.method === "POST") {
        return json(response, 200, this.decryptWaiting());
      }
      if (url.pathname === "/messages") {
        return json(response, 200, this.received(url.searchParams.get("subscription") ?? undefined));
      }
      if (url.pathname === "/rejections") return json(response, 200, this.rejections);
      if (url.pathname === "/behaviour" && request.method === "POST") {
        this.respond(String(input.subscription ?? "*"), ...(input.responses as Behaviour[]));
        return json(response, 200, { ok: true });
      }
      if (url.pathname === "/reset" && request.method === "POST") {
        this.reset();
        return json(response, 200, { ok: true });
      }
      return json(response, 404, { error: "not found" });
    });
    await new Promise<void>((resolve) => this.control!.listen(port, "127.0.0.1", resolve));
  }

  async close(): Promise<void> {
    this.releaseHanging();
    for (const socket of this.connections) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
    if (this.control) {
      this.control.closeAllConnections();
      await new Promise((resolve) => this.control!.close(resolve));
    }
  }
}
