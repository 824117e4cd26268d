/** What to do with a queue row after one delivery attempt. */
export type DeliveryOutcome =
  | { kind: "sent"; statusCode: number }
  | { kind: "retry"; delayMs: number; statusCode: number | null; error: string }
  | { kind: "failed"; statusCode: number | null; error: string }
  | { kind: "gone"; statusCode: number; error: string };

export const MAX_ATTEMPTS = 8;
const BASE_DELAY_MS = 1_000;
const MAX_DELAY_MS = 15 * 60_000;
const DEFAULT_RETRY_AFTER_MS = 60_000;

/** Exponential backoff with ±20 % jitter: 1 s, 2 s, 4 s … capped at 15 min. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Retry-After as seconds or an HTTP date (RFC 9110 §10.2.3). */
export function retryAfterMs(header: string | string[] | undefined, now = Date.now()): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return DEFAULT_RETRY_AFTER_MS;
  if (/^\d+$/.test(value.trim())) return Math.min(Number(value.trim()) * 1000, 24 * 3_600_000);
  const date = Date.parse(value);
  if (Number.isNaN(date)) return DEFAULT_RETRY_AFTER_MS;
  return Math.max(0, Math.min(date - now, 24 * 3_600_000));
}

/**
 * Classifies a push service's answer (RFC 8030 plus the services' known quirks): expired subscriptions
 * are removed, requests the service will never accept fail at once, everything transient is retried.
 */
export function classifyDelivery(
  result:
    | { statusCode: number; headers?: Record<string, string | string[] | undefined>; body?: string }
    | { error: string },
  attempt: number,
): DeliveryOutcome {
  if ("error" in result) {
    return attempt >= MAX_ATTEMPTS
      ? { kind: "failed", statusCode: null, error: `${result.error} (gave up after ${attempt} attempts)` }
      : { kind: "retry", delayMs: backoffMs(attempt), statusCode: null, error: result.error };
  }
  const { statusCode, headers = {}, body = "" } = result;
  const detail = body.trim().slice(0, 200);
  const explain = (text: string) => `${text} (${statusCode}${detail ? `: ${detail}` : ""})`;
  if (statusCode >= 200 && statusCode < 300) return { kind: "sent", statusCode };
  if (statusCode === 404 || statusCode === 410) {
    return { kind: "gone", statusCode, error: explain("The subscription has expired or was unsubscribed") };
  }
  // After a key change: Apple answers 400 VapidPkHashMismatch, FCM 403, Mozilla 401.
  if (statusCode === 401 || statusCode === 403 || (statusCode === 400 && /VapidPkHashMismatch/i.test(body))) {
    return {
      kind: "gone",
      statusCode,
      error: explain("The subscription is not valid for the current server key"),
    };
  }
  if (statusCode === 413) return { kind: "failed", statusCode, error: explain("The payload is too large") };
  if (statusCode === 429) {
    if (attempt >= MAX_ATTEMPTS)
      return { kind: "failed", statusCode, error: explain("Rate limited; gave up") };
    return {
      kind: "retry",
      delayMs: retryAfterMs(headers["retry-after"]),
      statusCode,
      error: explain("Rate limited"),
    };
  }
  if (statusCode >= 500 || statusCode === 408) {
    if (attempt >= MAX_ATTEMPTS) {
      return {
        kind: "failed",
        statusCode,
        error: explain(`Push service error; gave up after ${attempt} attempts`),
      };
    }
    return { kind: "retry", delayMs: backoffMs(attempt), statusCode, error: explain("Push service error") };
  }
  return { kind: "failed", statusCode, error: explain("The push service refused the message") };
}
