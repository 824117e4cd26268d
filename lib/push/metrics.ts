import { Counter, Gauge, Histogram } from "prom-client";
import { metricsRegistry } from "@/lib/metrics/registry";

/**
 * The push sender's own metrics (this process): claim latency and delivery outcomes. Registered once per
 * process in the shared registry that `/api/metrics` serves.
 */
function once<T>(name: string, make: () => T): T {
  return (metricsRegistry().getSingleMetric(name) as T | undefined) ?? make();
}

export const pushClaimSeconds = once(
  "push_claim_duration_seconds",
  () =>
    new Histogram({
      name: "push_claim_duration_seconds",
      help: "Time to claim a batch of due push messages (one statement), in this process.",
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [metricsRegistry()],
    }),
);

export const pushDeliveries = once(
  "push_deliveries_total",
  () =>
    new Counter({
      name: "push_deliveries_total",
      help: "Push delivery attempts finished by this process, by outcome and push-service status code.",
      labelNames: ["outcome", "status_code"] as const,
      registers: [metricsRegistry()],
    }),
);

export const pushEncryptionThreads = once(
  "push_encryption_threads",
  () =>
    new Gauge({
      name: "push_encryption_threads",
      help: "Threads encrypting push messages in this process (0 before the first send, or when none can start here and the main thread encrypts).",
      registers: [metricsRegistry()],
    }),
);
