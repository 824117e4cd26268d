import { NextRequest } from "next/server";
import { handlers } from "@/lib/auth/config";
import { withoutSessionCookieExpiry } from "@/lib/auth/session-cookie";
import { signInRetryAfter, tooManyAttemptsMessage } from "@/lib/auth/throttle";
import { clientAddress } from "@/lib/http/client-address";
import { jsonError } from "@/lib/http/errors";
import { apiRoute } from "@/lib/http/route";

function tooMany(seconds: number) {
  return jsonError("too_many_attempts", tooManyAttemptsMessage(seconds), {
    headers: { "Retry-After": String(seconds) },
  });
}

const isRemembered = (value: unknown) => value === "on" || value === "true" || value === true;

/**
 * next-auth's routes, with what it does not do itself: throttled sign-in answers 429 with the wait, and
 * a session without "Remember me" keeps a browser-session cookie when the session is read or refreshed.
 */
export const GET = apiRoute(async (request: Request) => {
  const response = await handlers.GET(request as never);
  return keepBrowserSession(request, response);
});

export const POST = apiRoute(async (request: Request) => {
  if (new URL(request.url).pathname.endsWith("/callback/credentials")) {
    // Read once, then handed on: next-auth must see the same body.
    const body = await request.text();
    const form = new URLSearchParams(body);
    const username = String(form.get("username") ?? "").slice(0, 64);
    const wait = await signInRetryAfter({ username, address: clientAddress(request.headers) });
    if (wait > 0) return tooMany(wait);
    const forwarded = new NextRequest(request.url, { method: "POST", headers: request.headers, body });
    const response = await handlers.POST(forwarded);
    const location = response.headers.get("location") ?? "";
    if (location.includes("code=too_many_attempts")) {
      return tooMany(
        Math.max(1, await signInRetryAfter({ username, address: clientAddress(request.headers) })),
      );
    }
    return isRemembered(form.get("remember")) ? response : withoutSessionCookieExpiry(response);
  }
  return keepBrowserSession(request, await handlers.POST(request as never));
});

async function keepBrowserSession(request: Request, response: Response): Promise<Response> {
  if (!new URL(request.url).pathname.endsWith("/session")) return response;
  const session = (await response
    .clone()
    .json()
    .catch(() => null)) as { remember?: unknown } | null;
  return session && !isRemembered(session.remember) ? withoutSessionCookieExpiry(response) : response;
}
