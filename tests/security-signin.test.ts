// Sign-in through the real route handler (SPEC H4): an unknown username costs a bcrypt compare like a
// wrong password, one account is throttled across addresses, and a client cannot pick its own address.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type FreshDatabase, freshDatabase } from "./support/fresh-database";

// The real bcrypt compare, counted: the timing guarantee is that every attempt runs exactly one.
vi.mock("@/lib/auth/password", async (importOriginal) => {
  const actual = await importOriginal<typeof import("@/lib/auth/password")>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

type Route = typeof import("@/app/api/auth/[...nextauth]/route");

describe("sign-in route", () => {
  let fresh: FreshDatabase;
  let route: Route;
  let verifyPassword: ReturnType<typeof vi.fn>;
  let boHash: string;

  beforeAll(async () => {
    // next-auth logs every refused sign-in with a stack; anything else still reaches the output.
    const log = console.error.bind(console);
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      const text = String(args[0]);
      if (!text.includes("[auth][error]") && !text.trimStart().startsWith("at Object.authorize"))
        log(...args);
    });
    // The route reads the process-wide database: point it at this file's own before anything reads env.
    fresh = await freshDatabase("security_signin");
    process.env.DATABASE_URL = fresh.url;
    route = await import("@/app/api/auth/[...nextauth]/route");
    verifyPassword = (await import("@/lib/auth/password")).verifyPassword as unknown as ReturnType<
      typeof vi.fn
    >;
    const { getUserByUsername } = await import("@/lib/users/queries");
    boHash = (await getUserByUsername({ username: "bo" }, fresh.handle.db))!.passwordHash;
  });
  afterAll(async () => {
    const { getDatabase } = await import("@/db/client");
    await getDatabase().close();
    await fresh?.drop();
  });

  /** One sign-in as the form posts it (CSRF token and cookie first); `headers` as the request carries them. */
  async function signIn(
    username: string,
    password: string,
    headers: Record<string, string> = {},
    call: (request: Request) => Promise<Response> = (request) =>
      request.method === "GET" ? route.GET(request) : route.POST(request),
  ): Promise<{ status: number; location: string }> {
    const csrf = await call(new Request("http://localhost/api/auth/csrf", { headers }));
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const cookie = csrf.headers
      .getSetCookie()
      .map((line) => line.split(";")[0])
      .join("; ");
    const response = await call(
      new Request("http://localhost/api/auth/callback/credentials", {
        method: "POST",
        headers: { ...headers, cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ csrfToken, username, password, callbackUrl: "/" }).toString(),
        redirect: "manual",
      }),
    );
    return { status: response.status, location: response.headers.get("location") ?? "" };
  }
  const address = (n: number) => ({ "x-approvals-client-address": `198.51.100.${n}` });

  it("an unknown username runs one bcrypt compare of the same cost, like a wrong password", async () => {
    verifyPassword.mockClear();
    const known = await signIn("bo", "wrong-password", address(1));
    expect(verifyPassword).toHaveBeenCalledTimes(1);
    expect(verifyPassword.mock.calls[0]?.[1]).toBe(boHash);

    verifyPassword.mockClear();
    const unknown = await signIn("nobody-here", "wrong-password", address(2));
    // The compare runs against a dummy hash: no user's, but as costly (same bcrypt version and rounds).
    expect(verifyPassword).toHaveBeenCalledTimes(1);
    const dummy = String(verifyPassword.mock.calls[0]?.[1]);
    expect(dummy).not.toBe(boHash);
    expect(dummy.slice(0, 7)).toBe(boHash.slice(0, 7));
    expect(dummy).toMatch(/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/);
    // And the answers are the same: nothing tells the two apart.
    expect(unknown).toEqual(known);
    expect(known.status).toBe(302);
    expect(known.location).toMatch(/error=CredentialsSignin/);
  });

  it("one account is throttled after 20 failures from 20 addresses, even with the right password", async () => {
    const { signInLimits } = await import("@/lib/auth/throttle");
    const { failures } = signInLimits().account;
    expect(failures).toBe(20);
    // One failure per address: the per-address limits (5 for the account, 50 for anyone) never trigger.
    for (let n = 1; n <= failures; n++) {
      const answer = await signIn("steve", `guess-${n}`, address(100 + n));
      expect(answer.status, `failure ${n}`).toBe(302);
      expect(answer.location, `failure ${n}`).toMatch(/error=CredentialsSignin/);
    }
    // From an address never seen, the right password waits too: the account is what is guarded.
    const blocked = await signIn("steve", "demo", address(200));
    expect(blocked.status).toBe(429);
    // Another account from that address signs in.
    const other = await signIn("pat", "demo", address(200));
    expect(other.status).toBe(302);
    expect(other.location).not.toMatch(/error=/);
  });

  describe("behind the real HTTP server", () => {
    let server: Server;
    let origin: string;

    beforeAll(async () => {
      // What instrumentation.ts does before the first request: every request carries its socket's address.
      const { stampClientAddresses } = await import("@/lib/http/client-address");
      stampClientAddresses();
      // A minimal Node server handing requests to the route, as Next.js does.
      server = createServer(async (incoming, outgoing) => {
        const chunks: Buffer[] = [];
        for await (const chunk of incoming) chunks.push(chunk as Buffer);
        const headers = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          for (const one of [value ?? []].flat()) headers.append(name, one);
        }
        const request = new Request(`${origin}${incoming.url}`, {
          method: incoming.method,
          headers,
          body: incoming.method === "POST" ? Buffer.concat(chunks) : undefined,
        });
        const response = await (incoming.method === "POST" ? route.POST(request) : route.GET(request));
        outgoing.statusCode = response.status;
        response.headers.forEach((value, name) => {
          if (name !== "set-cookie") outgoing.setHeader(name, value);
        });
        outgoing.setHeader("set-cookie", response.headers.getSetCookie());
        outgoing.end(Buffer.from(await response.arrayBuffer()));
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    it("a client naming another address in its headers is still throttled by its socket's", async () => {
      const overHttp = (request: Request) =>
        fetch(new URL(new URL(request.url).pathname, origin), {
          method: request.method,
          headers: request.headers,
          body: request.method === "POST" ? request.body : undefined,
          redirect: "manual",
          ...(request.method === "POST" ? { duplex: "half" } : {}),
        } as RequestInit);
      const statuses: number[] = [];
      for (let n = 1; n <= 6; n++) {
        // A new address each time in both headers a client might hope the app believes (TRUST_PROXY is 0).
        const spoofed = { "x-approvals-client-address": `203.0.113.${n}`, "x-forwarded-for": `192.0.2.${n}` };
        statuses.push((await signIn("admin", `guess-${n}`, spoofed, overHttp)).status);
      }
      // Five failures from one socket address, then the wait: the headers changed nothing.
      expect(statuses).toEqual([302, 302, 302, 302, 302, 429]);
    });
  });
});
