// A local push service for a real Firefox: Mozilla's WebSocket push protocol towards the browser (what
// Firefox's PushServiceWebSocket.sys.mjs speaks: hello / register / unregister / notification / ack /
// ping), RFC 8030 towards our sender. The HTTP side is the push service double (push-double.ts), so its
// checks (VAPID JWT, aes128gcm framing, TTL, 4 KB) and scripted answers (`double.respond(...)`) stay in
// force; an accepted message goes to Firefox, which decrypts it itself and wakes our service worker.
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { type WebSocket, WebSocketServer } from "ws";
import { PushDouble, type ReceivedMessage } from "./push-double";

/** What Firefox sends (PushServiceWebSocket.sys.mjs): messageType plus per-type fields. */
interface ClientMessage {
  messageType?: string;
  uaid?: string;
  channelID?: string;
  key?: string;
  code?: number;
  version?: string;
  updates?: { channelID: string; version: string; code: number }[];
}

export interface Registration {
  uaid: string;
  channelID: string;
  /** The id in the endpoint URL (push-double's relay id). */
  relayId: string;
  endpoint: string;
  applicationServerKey: string;
}

export interface Delivery {
  uaid: string;
  channelID: string;
  version: string;
  topic: string | undefined;
  /** When the sender's POST was accepted (ms, same clock as performance.timeOrigin + performance.now()). */
  acceptedAt: number;
  sentToBrowserAt: number | null;
  /** Firefox's ack code: 100 delivered to the service worker, 101–103 decryption / delivery errors. */
  ackCode: number | null;
}

interface Agent {
  uaid: string;
  socket: WebSocket | null;
  channels: Map<string, Registration>;
  /** Sent or waiting for the browser to connect, until acknowledged (as autopush stores them). */
  unacked: Map<string, { frame: string; delivery: Delivery }>;
}

const preciseNow = () => performance.timeOrigin + performance.now();

export class FirefoxPushService {
  readonly registrations: Registration[] = [];
  readonly unregistrations: Registration[] = [];
  readonly deliveries: Delivery[] = [];
  readonly hellos: { sent: string | undefined; answered: string }[] = [];
  private readonly agents = new Map<string, Agent>();
  private renewUaid = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    readonly double: PushDouble,
    private readonly server: WebSocketServer,
    /** For Firefox's `dom.push.serverURL`. */
    readonly url: string,
  ) {}

  static async start({ wsPort = 0, httpsPort = 0 }: { wsPort?: number; httpsPort?: number } = {}) {
    const double = await PushDouble.start({ port: httpsPort });
    const server = new WebSocketServer({
      host: "127.0.0.1",
      port: wsPort,
      handleProtocols: (protocols) => (protocols.has("push-notification") ? "push-notification" : false),
    });
    await new Promise<void>((resolve, reject) => {
      server.once("listening", resolve);
      server.once("error", reject);
    });
    const service = new FirefoxPushService(
      double,
      server,
      `ws://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    );
    server.on("connection", (socket) => service.accept(socket));
    return service;
  }

  /**
   * The next hello is answered with a new UAID, as a push service does after losing its records: Firefox
   * then drops every subscription and fires `pushsubscriptionchange` in each service worker concerned.
   */
  renewUaidOnNextHello(): void {
    this.renewUaid = true;
  }

  /** Drops the browsers' connections abruptly (a network fault): Firefox reconnects and says hello again. */
  dropConnections(): void {
    for (const socket of this.server.clients) socket.terminate();
  }

  registrationFor(endpoint: string): Registration | undefined {
    return this.registrations.find((registration) => registration.endpoint === endpoint);
  }

  /** Resolves once `check` returns a value (re-checked on every protocol event and every 50 ms). */
  async waitFor<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = check();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`push service: timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        this.waiters.add(wake);
      });
    }
  }

  private changed() {
    for (const wake of [...this.waiters]) wake();
  }

  private accept(socket: WebSocket) {
    let agent: Agent | null = null;
    const send = (value: unknown) => socket.send(JSON.stringify(value));
    socket.on("message", (data) => {
      let message: ClientMessage;
      try {
        message = JSON.parse(String(data)) as ClientMessage;
      } catch {
        socket.close(1002, "not JSON");
        return;
      }
      // Ping: `{}` both ways.
      if (!message.messageType || message.messageType === "ping") return send({});
      if (message.messageType === "hello") {
        agent = this.hello(message.uaid, socket);
        send({ messageType: "hello", uaid: agent.uaid, status: 200, use_webpush: true, broadcasts: {} });
        for (const pending of agent.unacked.values()) this.transmit(agent, pending);
        return this.changed();
      }
      if (!agent) return socket.close(1002, "hello first");
      const current: Agent = agent;
      switch (message.messageType) {
        case "register":
          return send(this.register(current, message));
        case "unregister":
          return send(this.unregister(current, message));
        case "ack":
          for (const update of message.updates ?? []) {
            const pending = current.unacked.get(update.version);
            if (!pending) continue;
            pending.delivery.ackCode = update.code;
            current.unacked.delete(update.version);
          }
          return this.changed();
        case "nack":
          return this.changed();
        default:
          return; // broadcast_subscribe and the like: nothing to do here.
      }
    });
    socket.on("close", () => {
      if (agent?.socket === socket) agent.socket = null;
      this.changed();
    });
  }

  private hello(uaid: string | undefined, socket: WebSocket): Agent {
    let agent = uaid ? this.agents.get(uaid) : undefined;
    if (agent && this.renewUaid) {
      // This service "forgot" the browser: its endpoints are gone (410) and it gets a new identity.
      this.renewUaid = false;
      for (const registration of agent.channels.values()) this.double.removeRelay(registration.relayId);
      this.agents.delete(agent.uaid);
      agent = undefined;
    }
    if (!agent) {
      agent = {
        uaid: randomUUID().replaceAll("-", ""),
        socket: null,
        channels: new Map(),
        unacked: new Map(),
      };
      this.agents.set(agent.uaid, agent);
    }
    agent.socket?.terminate();
    agent.socket = socket;
    this.hellos.push({ sent: uaid, answered: agent.uaid });
    return agent;
  }

  private register(agent: Agent, message: ClientMessage) {
    const channelID = String(message.channelID ?? "");
    if (!/^[\w-]{1,64}$/.test(channelID)) return { messageType: "register", channelID, status: 401 };
    // Firefox sends the application server key base64url-encoded with padding.
    const applicationServerKey = String(message.key ?? "").replace(/=+$/, "");
    const relayId = randomUUID();
    const registration: Registration = {
      uaid: agent.uaid,
      channelID,
      relayId,
      applicationServerKey,
      endpoint: this.double.addRelay(relayId, {
        applicationServerKey,
        deliver: (body, headers) => this.deliver(agent, channelID, body, headers),
      }),
    };
    agent.channels.set(channelID, registration);
    this.registrations.push(registration);
    this.changed();
    return { messageType: "register", channelID, status: 200, pushEndpoint: registration.endpoint };
  }

  private unregister(agent: Agent, message: ClientMessage) {
    const channelID = String(message.channelID ?? "");
    const registration = agent.channels.get(channelID);
    if (registration) {
      agent.channels.delete(channelID);
      this.double.removeRelay(registration.relayId);
      this.unregistrations.push(registration);
      this.changed();
    }
    return { messageType: "unregister", channelID, status: 200 };
  }

  private deliver(agent: Agent, channelID: string, body: Buffer, headers: ReceivedMessage["headers"]) {
    const version = randomUUID();
    const delivery: Delivery = {
      uaid: agent.uaid,
      channelID,
      version,
      topic: headers.topic,
      acceptedAt: preciseNow(),
      sentToBrowserAt: null,
      ackCode: null,
    };
    this.deliveries.push(delivery);
    const frame = JSON.stringify({
      messageType: "notification",
      channelID,
      version,
      data: body.toString("base64url"),
      headers: { encoding: "aes128gcm" },
    });
    const pending = { frame, delivery };
    agent.unacked.set(version, pending);
    this.transmit(agent, pending);
    this.changed();
  }

  private transmit(agent: Agent, pending: { frame: string; delivery: Delivery }) {
    if (!agent.socket || agent.socket.readyState !== agent.socket.OPEN) return;
    agent.socket.send(pending.frame);
    pending.delivery.sentToBrowserAt ??= preciseNow();
  }

  async close(): Promise<void> {
    for (const socket of this.server.clients) socket.terminate();
    await new Promise((resolve) => this.server.close(resolve));
    await this.double.close();
  }
}
