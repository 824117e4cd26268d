// H2: the host the allow-list checks is the host the sender contacts. web-push (and much other code) parses
// URLs with Node's legacy `url.parse`, which reads some spellings differently from the WHATWG parser the
// check uses ("https:host/x" has an empty host there, so a request would go to localhost). Side by side over
// many malformed endpoints: whatever passes the check is contacted at exactly the host both parsers agree on.
import { parse as legacyParse } from "node:url";
import { describe, expect, it } from "vitest";
import { checkEndpoint, parseAllowList, requestTarget } from "@/lib/push/allow-list";

const allowList = parseAllowList("fcm.googleapis.com,*.push.apple.com,localhost:4542");

const schemes = [
  "https://",
  "https:",
  "https:/",
  "https:///",
  "https:\\\\",
  "HTTPS://",
  "https:/\\",
  " https://",
];
const hosts = [
  "fcm.googleapis.com",
  "FCM.googleapis.com",
  "fcm.googleapis.com.",
  "fcm.googleapis.com:443",
  "fcm.googleapis.com:0443",
  "web.push.apple.com",
  "localhost:4542",
  "evil.example@fcm.googleapis.com",
  "fcm.googleapis.com@evil.example",
  "fcm.googleapis.com%40evil.example",
  "fcm.googleapis.com\\@evil.example",
  "fcm.googleapis.com#@evil.example",
  "fcm.googleapis.com?@evil.example",
  "evil.example\\.fcm.googleapis.com",
  "fcm%2egoogleapis%2ecom",
  "127.0.0.1",
  "0x7f.1",
  "[::1]",
  "localhost",
];
const paths = ["/fcm/send/abc", "\\fcm\\send\\abc", "/a/../b", "/%2e%2e/x", "/x?y=1", "/x#frag", ""];

const endpoints = schemes.flatMap((scheme) =>
  hosts.flatMap((host) => paths.map((path) => `${scheme}${host}${path}`)),
);

function legacy(endpoint: string) {
  try {
    const parsed = legacyParse(endpoint);
    return { hostname: parsed.hostname ?? "", port: parsed.port ? Number(parsed.port) : 443 };
  } catch {
    return null;
  }
}

function whatwg(endpoint: string) {
  try {
    return new URL(endpoint);
  } catch {
    return null;
  }
}

describe("push endpoint parsing: WHATWG URL and legacy url.parse side by side", () => {
  const rows = endpoints.map((endpoint) => {
    const checked = checkEndpoint(endpoint, allowList);
    return {
      endpoint,
      whatwg: whatwg(endpoint)?.host ?? "(invalid)",
      legacy: legacy(endpoint)?.hostname ?? "(throws)",
      accepted: checked.ok,
      target: checked.ok ? requestTarget(checked.url) : null,
    };
  });

  it(`covers ${endpoints.length} spellings, among them ones the two parsers read as different hosts`, () => {
    const disagreeing = rows.filter((row) => row.whatwg.replace(/:\d+$/, "") !== row.legacy);
    // The attack class exists in this list: WHATWG reads an allowed host where url.parse reads another.
    expect(disagreeing.some((row) => row.whatwg === "fcm.googleapis.com" && row.legacy === "")).toBe(true);
    expect(disagreeing.length).toBeGreaterThan(50);
    // None of them is accepted.
    expect(disagreeing.filter((row) => row.accepted)).toEqual([]);
  });

  it("contacts every accepted endpoint at the host both parsers read, and that host is allowed", () => {
    const accepted = rows.filter((row) => row.accepted);
    expect(accepted.length).toBeGreaterThan(5);
    for (const row of accepted) {
      const old = legacy(row.endpoint);
      expect(old, row.endpoint).not.toBeNull();
      expect({ hostname: row.target?.hostname, port: row.target?.port }, row.endpoint).toEqual(old);
      expect(["fcm.googleapis.com", "web.push.apple.com", "localhost"]).toContain(row.target?.hostname);
      // What is stored is what was checked: the normalised form, unchanged.
      expect(new URL(row.endpoint).href).toBe(row.endpoint);
    }
  });

  it("refuses an endpoint whose normalised form differs, naming the form it would accept", () => {
    const checked = checkEndpoint("https:fcm.googleapis.com/fcm/send/abc", allowList);
    expect(checked).toEqual({
      ok: false,
      reason: 'The endpoint is not in normalised form (expected "https://fcm.googleapis.com/fcm/send/abc").',
    });
    expect(legacy("https:fcm.googleapis.com/fcm/send/abc")?.hostname).toBe("");
    expect(checkEndpoint("https://fcm.googleapis.com/fcm/send/abc", allowList).ok).toBe(true);
  });
});
