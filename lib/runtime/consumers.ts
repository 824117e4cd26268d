import "server-only";
import { pushSenderConsumer } from "@/lib/push/sender";
import type { Consumer } from "@/lib/worker/consumer";

/** Every kind of background work this application runs. */
export function appConsumers(): Consumer<unknown>[] {
  return [pushSenderConsumer() as Consumer<unknown>];
}
