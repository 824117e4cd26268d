import "server-only";
import { executionsConsumer } from "@/lib/chains";
import { pushSenderConsumer } from "@/lib/push/sender";
import type { Consumer } from "@/lib/worker/consumer";
import "./chains";

/** Every kind of background work this application runs. */
export function appConsumers(): Consumer<unknown>[] {
  return [pushSenderConsumer() as Consumer<unknown>, executionsConsumer() as Consumer<unknown>];
}
