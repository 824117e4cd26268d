import "server-only";
import { executionsConsumer } from "@/lib/chains/consumer";
import type { Consumer } from "@/lib/worker/consumer";
import "./chains";

/** Every kind of background work this application runs; the push sender and chain runner join here. */
export function appConsumers(): Consumer<unknown>[] {
  return [executionsConsumer() as Consumer<unknown>];
}
