import { hasControlCharacters } from "@/lib/text";

/**
 * Where to go after sign-in. Only same-site paths are accepted, so a crafted link cannot send a user
 * who just signed in to another site (open redirect).
 */
export function safeCallbackUrl(value: unknown, fallback = "/"): string {
  if (typeof value !== "string" || value.length === 0 || value.length > 2048) return fallback;
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return fallback;
  if (hasControlCharacters(value)) return fallback;
  try {
    const parsed = new URL(value, "http://placeholder.invalid");
    if (parsed.origin !== "http://placeholder.invalid") return fallback;
    return `${parsed.pathname}${parsed.search}${parsed.hash}`;
  } catch {
    return fallback;
  }
}

export function signInPath(callbackUrl: string): string {
  const target = safeCallbackUrl(callbackUrl);
  return target === "/" ? "/signin" : `/signin?callbackUrl=${encodeURIComponent(target)}`;
}
