import { type IncomingMessage, Server } from "node:http";
import { getEnv } from "@/lib/env";

/**
 * Header carrying the TCP peer's address into the app. Next.js fills X-Forwarded-For only when the
 * client did not send one, so that header alone cannot tell a proxy's word from a client's.
 */
export const CLIENT_ADDRESS_HEADER = "x-approvals-client-address";

/**
 * Stamps every incoming request with its socket's address, overwriting whatever a client put in that
 * header. Called once at start-up (instrumentation.ts), before any request is served.
 */
export function stampClientAddresses(): void {
  const prototype = Server.prototype as Server & { __clientAddressStamped?: boolean };
  if (prototype.__clientAddressStamped) return;
  prototype.__clientAddressStamped = true;
  const emit = prototype.emit as (this: Server, event: string | symbol, ...args: unknown[]) => boolean;
  prototype.emit = function (this: Server, event: string | symbol, ...args: unknown[]) {
    if (event === "request") {
      const request = args[0] as IncomingMessage;
      request.headers[CLIENT_ADDRESS_HEADER] = request.socket?.remoteAddress ?? "";
    }
    return emit.call(this, event, ...args);
  } as Server["emit"];
}

/**
 * The client's address for throttling: the entry TRUST_PROXY hops from the right of X-Forwarded-For when
 * proxies are configured (each appends the address it saw), otherwise the socket's own address.
 */
export function clientAddress(headers: Headers, trustProxy = getEnv().TRUST_PROXY): string {
  if (trustProxy > 0) {
    const hops = (headers.get("x-forwarded-for") ?? "")
      .split(",")
      .map((hop) => hop.trim())
      .filter(Boolean);
    const entry = hops[hops.length - trustProxy];
    if (entry) return entry.slice(0, 64);
  }
  return (headers.get(CLIENT_ADDRESS_HEADER) || "unknown").slice(0, 64);
}
