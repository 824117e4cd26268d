import "server-only";
import type { Consumer } from "@/lib/worker/consumer";

/** Every kind of background work this application runs; the push sender and chain runner join here. */
export function appConsumers(): Consumer<unknown>[] {
  return [];
}
