import { hasControlCharacters } from "@/lib/text";

const BASE = "http://placeholder.invalid";

/** A path this site serves: one leading slash, no scheme-relative `//host` or `/\host`, no controls. */
function isLocalPath(value: string): boolean {
  return (
    value.startsWith("/") &&
    !value.startsWith("//") &&
    !value.startsWith("/\\") &&
    !hasControlCharacters(value) &&
    new URL(value, BASE).origin === BASE
  );
}

/**
 * Where to go after sign-in. Only same-site paths are accepted, so a crafted link cannot send a user
 * who just signed in to another site (open redirect). The check runs on the value actually returned:
 * dot segments normalise (`/..//evil.example` becomes `//evil.example`), so checking only the raw input
 * is not enough.
 */
export function safeCallbackUrl(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return fallback;
  try {
    if (!isLocalPath(value)) return fallback;
    const parsed = new URL(value, BASE);
    const target = `${parsed.pathname}${parsed.search}${parsed.hash}`;
    return isLocalPath(target) ? target : fallback;
  } catch {
    return fallback;
  }
}

export function signInPath(callbackUrl: string): string {
  const target = safeCallbackUrl(callbackUrl);
  return target === "/" ? "/signin" : `/signin?callbackUrl=${encodeURIComponent(target)}`;
}
