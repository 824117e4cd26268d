import "server-only";

/** next-auth's session cookie, plain and behind https, and its chunks (`.0`, `.1`, …) when large. */
export const isSessionCookieName = (name: string) => /^(__Secure-)?authjs\.session-token(\.\d+)?$/.test(name);

interface CookieJar {
  getAll(): { name: string; value: string }[];
  set(name: string, value: string, options: Record<string, unknown>): unknown;
}

/**
 * next-auth always gives its session cookie an expiry. Without "Remember me" the cookie is set again
 * with none, so the browser forgets it when it closes (the session's record expires on the server too).
 */
export function keepSessionCookieForBrowserSession(jar: CookieJar): void {
  for (const { name, value } of jar.getAll()) {
    if (!isSessionCookieName(name)) continue;
    jar.set(name, value, {
      httpOnly: true,
      sameSite: "lax",
      path: "/",
      secure: name.startsWith("__Secure-"),
    });
  }
}

/** The same for a response next-auth built (the /api/auth routes): strips Expires and Max-Age. */
export function withoutSessionCookieExpiry(response: Response): Response {
  const cookies = response.headers.getSetCookie();
  if (!cookies.some((cookie) => isSessionCookieName(cookie.split("=")[0] ?? ""))) return response;
  const headers = new Headers(response.headers);
  headers.delete("set-cookie");
  for (const cookie of cookies) {
    const name = cookie.split("=")[0] ?? "";
    const removing = /;\s*Max-Age=0\b/i.test(cookie) || /=;/.test(cookie);
    headers.append(
      "set-cookie",
      isSessionCookieName(name) && !removing ? cookie.replace(/;\s*(Expires|Max-Age)=[^;]*/gi, "") : cookie,
    );
  }
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
