import "server-only";
import http2 from "node:http2";
import https from "node:https";
import { isIP } from "node:net";
import type { Readable } from "node:stream";
import tls from "node:tls";
import { HttpsProxyAgent } from "https-proxy-agent";
import { requestTarget } from "./allow-list";

export interface PushResponse {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** The most of a push service's answer kept (its error text, for the device's last error). */
const MAX_ANSWER_BYTES = 4096;

/**
 * Connections to push services, one set per origin. Where the service offers HTTP/2 (ALPN; FCM, Apple's
 * and Mozilla's services do), every send to it is a stream on one TLS connection: no socket per request,
 * many sends share a socket write, and one service that stops answering a request holds up nothing else.
 * Otherwise (or through a proxy) HTTP/1.1 on keep-alive sockets. Requests go to exactly the host, port and
 * path of the URL that passed the allow-list (`requestTarget`), and redirects are never followed.
 */
export class PushTransport {
  /** Per origin: its HTTP/2 session, or null when the service does not speak HTTP/2. */
  private readonly sessions = new Map<string, http2.ClientHttp2Session | null>();
  /** Per origin: the connection being made (concurrent sends wait for the same one). */
  private readonly connecting = new Map<string, Promise<http2.ClientHttp2Session | null>>();
  private readonly streamsOpen = new Map<http2.ClientHttp2Session, number>();
  private readonly agents = new Map<string, https.Agent>();
  /** HTTP/2 sends in flight and when each gives up; one timer checks them all (see `watch`). */
  private readonly deadlines = new Map<http2.ClientHttp2Stream, { at: number; expire: () => void }>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: { proxy: string | undefined; maxSockets: number; timeoutMs: number },
  ) {}

  async post(url: URL, headers: Record<string, string>, body: Buffer): Promise<PushResponse> {
    for (let attempt = 1; !this.options.proxy; attempt++) {
      const session = await this.session(url);
      if (!session) break;
      try {
        return await this.postHttp2(session, url, headers, body);
      } catch (error) {
        // Not processed by the service (RFC 9113 §8.7): a refused stream, or one on a connection that is
        // going away. Safe to send again at once (on a new connection if this one is closing).
        if (attempt > 1 || !notProcessed(error)) throw error;
      }
    }
    return postHttp1(url, headers, body, this.agent(url.origin), this.options.timeoutMs);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const session of this.sessions.values()) session?.destroy();
    this.sessions.clear();
    for (const pending of this.connecting.values())
      pending.then(
        (session) => session?.destroy(),
        () => {},
      );
    this.connecting.clear();
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }

  /** The origin's open session (null: HTTP/1.1), connecting when there is none; a failed connection is
   * not remembered, so the next send tries again. */
  private session(url: URL): Promise<http2.ClientHttp2Session | null> {
    const origin = url.origin;
    const known = this.sessions.get(origin);
    if (known === null || (known && !known.closed && !known.destroyed)) return Promise.resolve(known);
    this.sessions.delete(origin);
    let pending = this.connecting.get(origin);
    if (!pending) {
      pending = this.connect(url).then(
        (session) => {
          this.connecting.delete(origin);
          this.sessions.set(origin, session);
          return session;
        },
        (error: unknown) => {
          this.connecting.delete(origin);
          throw error;
        },
      );
      this.connecting.set(origin, pending);
    }
    return pending;
  }

  /** TLS with ALPN offering h2 and http/1.1; the service's choice decides the protocol for this origin. */
  private connect(url: URL): Promise<http2.ClientHttp2Session | null> {
    const { hostname, port } = requestTarget(url);
    return new Promise((resolve, reject) => {
      const socket = tls.connect({
        host: hostname,
        port,
        servername: isIP(hostname) ? undefined : hostname,
        ALPNProtocols: ["h2", "http/1.1"],
      });
      socket.setTimeout(this.options.timeoutMs, () => socket.destroy(new Error("Socket timeout")));
      socket.once("error", reject);
      socket.once("secureConnect", () => {
        socket.setTimeout(0);
        socket.removeListener("error", reject);
        if (socket.alpnProtocol !== "h2") {
          socket.destroy();
          resolve(null);
          return;
        }
        const session = http2.connect(url.origin, { createConnection: () => socket });
        const fail = (error: Error) => {
          clearTimeout(timer);
          session.destroy();
          reject(error);
        };
        const timer = setTimeout(() => fail(new Error("Socket timeout")), this.options.timeoutMs);
        session.once("error", fail);
        // Sends start once the service's SETTINGS are known: streams beyond its concurrency limit then wait
        // in the session's queue instead of being refused (REFUSED_STREAM) and retried.
        session.once("remoteSettings", () => {
          clearTimeout(timer);
          session.removeListener("error", fail);
          // A broken connection fails its open streams (each reports its own error); a closing one is
          // replaced at the next send (session() checks `closed`).
          session.on("error", () => {});
          session.once("goaway", () => session.close());
          session.unref();
          resolve(session);
        });
      });
    });
  }

  /** Keeps the process alive while a stream is open, not while the connection idles. */
  private hold(session: http2.ClientHttp2Session, change: 1 | -1) {
    const open = (this.streamsOpen.get(session) ?? 0) + change;
    if (open > 0) this.streamsOpen.set(session, open);
    else this.streamsOpen.delete(session);
    if (session.destroyed) return;
    if (open === 1 && change === 1) session.ref();
    if (open <= 0) session.unref();
  }

  /**
   * A send gives up `timeoutMs` after it started (checked a few times per timeout by one timer for all
   * sends): a timer per stream, reset at every frame, cost about a tenth of a send's CPU at 1,000 sends/s.
   */
  private watch(stream: http2.ClientHttp2Stream, expire: () => void) {
    this.deadlines.set(stream, { at: Date.now() + this.options.timeoutMs, expire });
    if (this.sweeper) return;
    this.sweeper = setInterval(
      () => {
        const now = Date.now();
        for (const [open, { at, expire: giveUp }] of this.deadlines) {
          if (at > now) continue;
          this.deadlines.delete(open);
          giveUp();
        }
        if (this.deadlines.size === 0) {
          clearInterval(this.sweeper);
          this.sweeper = undefined;
        }
      },
      Math.max(10, Math.floor(this.options.timeoutMs / 4)),
    );
    this.sweeper.unref();
  }

  private postHttp2(
    session: http2.ClientHttp2Session,
    url: URL,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<PushResponse> {
    return new Promise((resolve, reject) => {
      let stream: http2.ClientHttp2Stream;
      try {
        // Header names are lower-case already (HTTP/2 requires it; HTTP/1.1 ignores case).
        stream = session.request({ ":method": "POST", ":path": requestTarget(url).path, ...headers });
      } catch (error) {
        reject(error);
        return;
      }
      this.hold(session, 1);
      let statusCode = 0;
      let answerHeaders: PushResponse["headers"] = {};
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        this.deadlines.delete(stream);
        outcome();
      };
      this.watch(stream, () => {
        settle(() => reject(new Error("Socket timeout")));
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      stream.on("response", (received) => {
        statusCode = Number(received[":status"] ?? 0);
        answerHeaders = received;
      });
      readAnswer(stream, (text) => settle(() => resolve({ statusCode, headers: answerHeaders, body: text })));
      stream.on("error", (error) => settle(() => reject(Object.assign(error, { rstCode: stream.rstCode }))));
      stream.on("close", () => {
        this.hold(session, -1);
        settle(() =>
          reject(
            Object.assign(new Error(`The push service closed the stream (code ${stream.rstCode})`), {
              rstCode: stream.rstCode,
            }),
          ),
        );
      });
      stream.end(body);
    });
  }

  /** One keep-alive agent per push-service origin (through the proxy when one is configured). */
  private agent(origin: string): https.Agent {
    let agent = this.agents.get(origin);
    if (!agent) {
      agent = this.options.proxy
        ? new HttpsProxyAgent(this.options.proxy, { keepAlive: true, maxSockets: this.options.maxSockets })
        : new https.Agent({ keepAlive: true, maxSockets: this.options.maxSockets });
      this.agents.set(origin, agent);
    }
    return agent;
  }
}

/** Reads an answer's body as text, keeping at most MAX_ANSWER_BYTES; `done` gets it at its end. */
function readAnswer(answer: Readable, done: (text: string) => void) {
  // Usually empty (201 Created): no decoder is made for it, the bytes are decoded once at the end.
  const chunks: Buffer[] = [];
  let size = 0;
  answer.on("data", (chunk: Buffer) => {
    if (size >= MAX_ANSWER_BYTES) return;
    chunks.push(chunk);
    size += chunk.length;
  });
  answer.on("end", () =>
    done(size === 0 ? "" : Buffer.concat(chunks, size).toString("utf8", 0, Math.min(size, MAX_ANSWER_BYTES))),
  );
}

/** A send the service never processed: refused, or cut off by the connection going away. */
function notProcessed(error: unknown): boolean {
  const { code, rstCode } = error as { code?: string; rstCode?: number };
  return (
    rstCode === http2.constants.NGHTTP2_REFUSED_STREAM ||
    code === "ERR_HTTP2_GOAWAY_SESSION" ||
    code === "ERR_HTTP2_INVALID_SESSION"
  );
}

/** POSTs over HTTP/1.1 to exactly the checked URL's host, port and path (never re-parsed from text). */
function postHttp1(
  url: URL,
  headers: Record<string, string>,
  body: Buffer,
  agent: https.Agent,
  timeoutMs: number,
) {
  return new Promise<PushResponse>((resolve, reject) => {
    const request = https.request(
      { ...requestTarget(url), method: "POST", headers, agent, timeout: timeoutMs },
      (response) => {
        readAnswer(response, (text) =>
          resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error("Socket timeout")));
    request.on("error", reject);
    request.end(body);
  });
}
