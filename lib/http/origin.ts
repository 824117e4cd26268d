import "server-only";
import { getEnv } from "@/lib/env";
import { HttpError } from "./errors";

/**
 * Refuses a state-changing request sent from another site (CSRF). Browsers send Origin on every
 * cross-origin POST/PUT/DELETE, whatever the body type (a `text/plain` or multipart form included); it
 * must be this app — the configured APP_URL or the origin the request was addressed to. Without Origin,
 * a `Sec-Fetch-Site` other than same-origin/none is refused too; a request with neither (curl, a server)
 * carries no browser cookies to abuse.
 */
export function requireSameOrigin(request: Request): void {
  const origin = request.headers.get("origin");
  if (origin !== null) {
    const allowed = new Set([new URL(request.url).origin, getEnv().APP_URL]);
    if (!allowed.has(origin)) {
      throw new HttpError("cross_origin", "Requests are only accepted from this app.");
    }
    return;
  }
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") {
    throw new HttpError("cross_origin", "Requests are only accepted from this app.");
  }
}

/** JSON endpoints take JSON only: a cross-site form cannot send `application/json` without a preflight. */
export function requireJsonContentType(request: Request): void {
  const type = (request.headers.get("content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/json") {
    throw new HttpError("unsupported_media_type", "Send the request body as application/json.");
  }
}
