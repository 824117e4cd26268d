import { type NextRequest, NextResponse } from "next/server";

/** Paths anyone may open; everything else needs a session. */
const PUBLIC_PATHS = [
  /^\/signin$/,
  /^\/api\/auth\//,
  /^\/api\/health$/,
  // Scrapers send a bearer token, not a cookie; the route checks the token or an admin session itself.
  /^\/api\/metrics$/,
  /^\/sw(-logic)?\.js$/,
  /^\/manifest\.webmanifest$/,
  /^\/offline\.html$/,
];

function hasSessionCookie(request: NextRequest): boolean {
  return request.cookies
    .getAll()
    .some(
      ({ name }) =>
        name.startsWith("authjs.session-token") || name.startsWith("__Secure-authjs.session-token"),
    );
}

const development = process.env.NODE_ENV !== "production";

/**
 * Content-Security-Policy of every page, route and the service worker, with a fresh nonce per request:
 * Next.js reads the nonce from this request header and puts it on its own scripts, and 'strict-dynamic'
 * lets those load their chunks. No 'unsafe-inline' for scripts, so an injected <script> never runs.
 * Styles keep 'unsafe-inline' (React style attributes); nobody may frame the app (click-jacking an
 * Approve button). Development adds what React's dev tooling and hot reloading need.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${development ? " 'unsafe-eval'" : ""}`,
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${development ? " ws: wss:" : ""}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "frame-ancestors 'none'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
  ].join("; ");
}

function withPolicy<R extends Response>(response: R, policy: string): R {
  response.headers.set("Content-Security-Policy", policy);
  return response;
}

/** Next.js's server-action body limit (serverActions.bodySizeLimit, 1 MB by default). */
const SERVER_ACTION_BODY_LIMIT = 1024 * 1024;

/**
 * Optimistic only: sends visitors without a session cookie to sign-in (remembering the exact URL) and
 * tells pages their own URL. Also sets the per-request CSP nonce. The real checks happen next to the data (lib/auth guards).
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("base64");
  const policy = contentSecurityPolicy(nonce);
  // Past its limit Next.js answers a server action with a 500; a clear 413 is the right answer.
  if (
    request.method === "POST" &&
    request.headers.has("next-action") &&
    Number(request.headers.get("content-length") ?? "0") > SERVER_ACTION_BODY_LIMIT
  ) {
    return withPolicy(
      NextResponse.json({ ok: false, error: "The request is too large." }, { status: 413 }),
      policy,
    );
  }
  const { pathname, search } = request.nextUrl;
  const here = `${pathname}${search}`;
  if (!PUBLIC_PATHS.some((pattern) => pattern.test(pathname)) && !hasSessionCookie(request)) {
    if (pathname.startsWith("/api/")) {
      return withPolicy(NextResponse.json({ ok: false, error: "Sign in first." }, { status: 401 }), policy);
    }
    const url = request.nextUrl.clone();
    url.pathname = "/signin";
    url.search = here === "/" ? "" : `?callbackUrl=${encodeURIComponent(here)}`;
    return withPolicy(NextResponse.redirect(url), policy);
  }
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-request-url", here);
  requestHeaders.set("x-nonce", nonce);
  requestHeaders.set("Content-Security-Policy", policy);
  return withPolicy(NextResponse.next({ request: { headers: requestHeaders } }), policy);
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|icons/).*)"],
};
