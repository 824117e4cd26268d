import { type NextRequest, NextResponse } from "next/server";

/** Paths anyone may open; everything else needs a session. */
const PUBLIC_PATHS = [
  /^\/signin$/,
  /^\/api\/auth\//,
  /^\/api\/health$/,
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

/** Next.js's server-action body limit (serverActions.bodySizeLimit, 1 MB by default). */
const SERVER_ACTION_BODY_LIMIT = 1024 * 1024;

/**
 * Optimistic only: sends visitors without a session cookie to sign-in (remembering the exact URL) and
 * tells pages their own URL. The real checks happen next to the data (lib/auth guards).
 */
export function proxy(request: NextRequest) {
  // Past its limit Next.js answers a server action with a 500; a clear 413 is the right answer.
  if (
    request.method === "POST" &&
    request.headers.has("next-action") &&
    Number(request.headers.get("content-length") ?? "0") > SERVER_ACTION_BODY_LIMIT
  ) {
    return NextResponse.json({ ok: false, error: "The request is too large." }, { status: 413 });
  }
  const { pathname, search } = request.nextUrl;
  const here = `${pathname}${search}`;
  if (!PUBLIC_PATHS.some((pattern) => pattern.test(pathname)) && !hasSessionCookie(request)) {
    if (pathname.startsWith("/api/")) {
      return NextResponse.json({ ok: false, error: "Sign in first." }, { status: 401 });
    }
    const url = request.nextUrl.clone();
    url.pathname = "/signin";
    url.search = here === "/" ? "" : `?callbackUrl=${encodeURIComponent(here)}`;
    return NextResponse.redirect(url);
  }
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set("x-request-url", here);
  return NextResponse.next({ request: { headers: requestHeaders } });
}

export const config = {
  matcher: ["/((?!_next/static|_next/image|favicon.ico|icons/).*)"],
};
