import { collectDefaultMetrics, Registry } from "prom-client";

const globalForMetrics = globalThis as unknown as { __approvalMetrics?: Registry };

/**
 * The process's one metrics registry. Kept on globalThis: Next.js loads instrumentation (where the in-web
 * worker runs and counts deliveries) and route handlers as separate bundles, and `/api/metrics` must see
 * both.
 */
export function metricsRegistry(): Registry {
  if (!globalForMetrics.__approvalMetrics) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    globalForMetrics.__approvalMetrics = registry;
  }
  return globalForMetrics.__approvalMetrics;
}
