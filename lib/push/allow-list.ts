/**
 * Which push-service hosts the server may ever contact: subscriptions pointing anywhere else are refused
 * when saved and never sent to (server-side request forgery guard).
 */
export const DEFAULT_PUSH_ALLOWLIST = [
  "*.push.apple.com",
  "*.notify.windows.com",
  "updates.push.services.mozilla.com",
  "fcm.googleapis.com",
  "android.googleapis.com",
];

export interface HostPattern {
  /** Lower-case host; a leading "*." matches any subdomain (not the bare domain). */
  host: string;
  /** Port required when given; otherwise only the default HTTPS port. */
  port: string | null;
}

const PATTERN = /^(\*\.)?([a-z0-9-]+(\.[a-z0-9-]+)*)(:(\d{1,5}))?$/;

/** Parses "a.example.com, *.b.example.com, localhost:4443"; throws on a malformed entry. */
export function parseAllowList(value: string | undefined): HostPattern[] {
  const entries = value === undefined ? DEFAULT_PUSH_ALLOWLIST : value.split(",");
  return entries
    .map((entry) => entry.trim().toLowerCase())
    .filter(Boolean)
    .map((entry) => {
      const match = PATTERN.exec(entry);
      if (!match) throw new Error(`PUSH_ENDPOINT_ALLOWLIST: "${entry}" is not a host pattern`);
      return { host: `${match[1] ?? ""}${match[2]}`, port: match[5] ?? null };
    });
}

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** Checks a subscription endpoint: a well-formed https URL on an allow-listed host and port. */
export function checkEndpoint(endpoint: unknown, allowList: HostPattern[]): EndpointCheck {
  if (typeof endpoint !== "string" || endpoint.length === 0)
    return { ok: false, reason: "The endpoint is missing." };
  if (endpoint.length > 2048) return { ok: false, reason: "The endpoint is too long." };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: "The endpoint is not a valid URL." };
  }
  if (url.protocol !== "https:") return { ok: false, reason: "The endpoint must use https." };
  // The sender contacts exactly the host checked here. Other parsers (web-push's legacy url.parse) read
  // some spellings differently ("https:host/x" has an empty host there, so it would go to localhost), so
  // only the normalised form is accepted: what is stored, checked and contacted is one and the same URL.
  if (url.href !== endpoint)
    return { ok: false, reason: `The endpoint is not in normalised form (expected "${url.href}").` };
  if (url.username || url.password)
    return { ok: false, reason: "The endpoint must not contain credentials." };
  const host = url.hostname.toLowerCase();
  const allowed = allowList.some((pattern) => {
    const hostMatches = pattern.host.startsWith("*.")
      ? host.endsWith(pattern.host.slice(1)) && host.length > pattern.host.length - 1
      : host === pattern.host;
    return hostMatches && (pattern.port === null ? url.port === "" : url.port === pattern.port);
  });
  if (!allowed) return { ok: false, reason: `Push service host "${url.host}" is not allowed.` };
  return { ok: true, url };
}

/** Where a checked endpoint's request goes: taken from the WHATWG URL that passed the check, nothing else. */
export function requestTarget(url: URL): { hostname: string; port: number; path: string } {
  return {
    hostname: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: url.port === "" ? 443 : Number(url.port),
    path: `${url.pathname}${url.search}`,
  };
}
