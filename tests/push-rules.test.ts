import { describe, expect, it } from "vitest";
import { checkEndpoint, DEFAULT_PUSH_ALLOWLIST, parseAllowList } from "@/lib/push/allow-list";
import { backoffMs, classifyDelivery, MAX_ATTEMPTS, retryAfterMs } from "@/lib/push/delivery-outcome";
import { deviceLabel } from "@/lib/push/device-label";
import { buildPayload, MAX_PAYLOAD_BYTES, notificationInputSchema, resolveAppUrl } from "@/lib/push/payload";

describe("push endpoint allow-list", () => {
  const defaults = parseAllowList(undefined);

  it.each([
    "https://fcm.googleapis.com/fcm/send/abc",
    "https://web.push.apple.com/QO3n",
    "https://updates.push.services.mozilla.com/wpush/v2/x",
    "https://wns2-par02p.notify.windows.com/w/?token=x",
    "https://android.googleapis.com/gcm/send/x",
  ])("accepts the real push service %s", (endpoint) => {
    expect(checkEndpoint(endpoint, defaults).ok).toBe(true);
  });

  it.each([
    ["http://fcm.googleapis.com/fcm/send/abc", "must use https"],
    ["https://evil.example.com/push", "not allowed"],
    ["https://fcm.googleapis.com.evil.example/x", "not allowed"],
    ["https://push.apple.com/x", "not allowed"],
    ["https://127.0.0.1/push", "not allowed"],
    ["https://169.254.169.254/latest/meta-data", "not allowed"],
    ["https://[::1]/push", "not allowed"],
    ["https://fcm.googleapis.com:8443/x", "not allowed"],
    ["https://user:pw@fcm.googleapis.com/x", "credentials"],
    ["not a url", "not a valid URL"],
    ["", "missing"],
    [`https://fcm.googleapis.com/${"x".repeat(3000)}`, "too long"],
  ])("refuses %s", (endpoint, reason) => {
    const result = checkEndpoint(endpoint, defaults);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(reason);
  });

  it("takes a configured list with wildcards and ports, replacing the defaults", () => {
    const list = parseAllowList("localhost:4443, *.push.example.org");
    expect(checkEndpoint("https://localhost:4443/push/1", list).ok).toBe(true);
    expect(checkEndpoint("https://localhost/push/1", list).ok).toBe(false);
    expect(checkEndpoint("https://eu.push.example.org/x", list).ok).toBe(true);
    expect(checkEndpoint("https://push.example.org/x", list).ok).toBe(false);
    expect(checkEndpoint("https://fcm.googleapis.com/x", list).ok).toBe(false);
    expect(DEFAULT_PUSH_ALLOWLIST).toContain("fcm.googleapis.com");
    expect(() => parseAllowList("ok.example.com, http://bad")).toThrow(/not a host pattern/);
  });
});

describe("delivery outcomes", () => {
  it("sends, removes expired subscriptions, fails what can never succeed", () => {
    expect(classifyDelivery({ statusCode: 201 }, 1)).toEqual({ kind: "sent", statusCode: 201 });
    expect(classifyDelivery({ statusCode: 410 }, 1).kind).toBe("gone");
    expect(classifyDelivery({ statusCode: 404 }, 1).kind).toBe("gone");
    expect(classifyDelivery({ statusCode: 400, body: '{"reason":"VapidPkHashMismatch"}' }, 1).kind).toBe(
      "gone",
    );
    expect(classifyDelivery({ statusCode: 403 }, 1).kind).toBe("gone");
    expect(classifyDelivery({ statusCode: 413 }, 1).kind).toBe("failed");
    expect(classifyDelivery({ statusCode: 400, body: "bad" }, 1).kind).toBe("failed");
  });

  it("retries transient errors with growing delays, up to a cap", () => {
    const first = classifyDelivery({ statusCode: 500 }, 1);
    const later = classifyDelivery({ statusCode: 503 }, 5);
    expect(first.kind).toBe("retry");
    expect(later.kind).toBe("retry");
    if (first.kind === "retry" && later.kind === "retry")
      expect(later.delayMs).toBeGreaterThan(first.delayMs);
    expect(classifyDelivery({ error: "ECONNRESET" }, 2).kind).toBe("retry");
    expect(classifyDelivery({ statusCode: 500 }, MAX_ATTEMPTS).kind).toBe("failed");
    expect(classifyDelivery({ error: "timeout" }, MAX_ATTEMPTS).kind).toBe("failed");
  });

  it("honours Retry-After as seconds or a date", () => {
    const outcome = classifyDelivery({ statusCode: 429, headers: { "retry-after": "7" } }, 1);
    expect(outcome).toMatchObject({ kind: "retry", delayMs: 7000 });
    const now = Date.parse("2026-11-25T10:00:00Z");
    expect(retryAfterMs("Wed, 25 Nov 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs(undefined)).toBe(60_000);
    expect(retryAfterMs("nonsense")).toBe(60_000);
  });

  it("backs off exponentially with jitter and a 15-minute ceiling", () => {
    expect(backoffMs(1, () => 0.5)).toBe(1000);
    expect(backoffMs(4, () => 0.5)).toBe(8000);
    expect(backoffMs(40, () => 1)).toBe(15 * 60_000 * 1.2);
  });
});

describe("notification payload", () => {
  const appUrl = "https://approvals.example.com";
  const parse = (input: object) =>
    notificationInputSchema.parse({
      userName: "bo",
      title: "Hello",
      targetUrl: "/reimbursements/1",
      ...input,
    });

  it("resolves paths against APP_URL and keeps absolute http(s) URLs", () => {
    expect(resolveAppUrl("/reimbursements/7", appUrl)).toBe("https://approvals.example.com/reimbursements/7");
    expect(resolveAppUrl("https://other.example.com/x", appUrl)).toBe("https://other.example.com/x");
    expect(resolveAppUrl("javascript:alert(1)", appUrl)).toBeNull();
    expect(resolveAppUrl("//evil.example.com/x", appUrl)).toBeNull();
    expect(resolveAppUrl("reimbursements/7", appUrl)).toBeNull();
  });

  it("builds Apple's declarative web push shape", () => {
    const result = buildPayload(parse({ body: "Your claim was approved." }), appUrl, "n-1");
    expect(result).toEqual({
      ok: true,
      payload: {
        web_push: 8030,
        notification: {
          title: "Hello",
          body: "Your claim was approved.",
          navigate: "https://approvals.example.com/reimbursements/1",
          tag: "n-1",
          icon: "https://approvals.example.com/icons/icon-192.png",
          badge: "https://approvals.example.com/icons/badge-72.png",
        },
      },
    });
  });

  it("refuses a payload that would not fit in one push message", () => {
    const result = buildPayload(parse({ body: "😀".repeat(1000) }), appUrl, "n-1");
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.fieldErrors.body?.[0]).toContain(`at most ${MAX_PAYLOAD_BYTES}`);
    expect(buildPayload(parse({ body: "a".repeat(1000) }), appUrl, "n-1").ok).toBe(true);
  });

  it("rejects bad fields with messages", () => {
    expect(notificationInputSchema.safeParse({ userName: "", title: "", targetUrl: "" }).success).toBe(false);
    expect(buildPayload(parse({ targetUrl: "ftp://x" }), appUrl, "n").ok).toBe(false);
  });
});

describe("device labels", () => {
  it.each([
    [
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1",
      "Safari on iPhone",
    ],
    [
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Mobile Safari/537.36",
      "Chrome on Android",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
      "Firefox on Windows",
    ],
    [
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0",
      "Edge on Windows",
    ],
    ["", "Unknown device"],
  ])("%s → %s", (ua, label) => {
    expect(deviceLabel(ua)).toBe(label);
  });
});
