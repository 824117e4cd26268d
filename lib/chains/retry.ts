/** How a chain whose step throws is tried again (E1). */
export interface RetryPolicy {
  /** Attempts in all, the first included (1: no retry). */
  maxAttempts: number;
  /** Wait before attempt n+1: min(maxMs, initialMs × factor^(n−1)). Defaults 1 s, ×2, 5 min. */
  backoff?: { initialMs?: number; factor?: number; maxMs?: number };
  /** Spread retries of many executions: wait a random time between half and all of the backoff. Default true. */
  jitter?: boolean;
}

/** Attempts of a `retryable` chain without a retry policy: re-run twice after a dead worker. */
export const RETRYABLE_ATTEMPTS = 3;

/** Milliseconds to wait after failed attempt `attempt` (1-based) before the next one. */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const initialMs = policy.backoff?.initialMs ?? 1_000;
  const factor = policy.backoff?.factor ?? 2;
  const maxMs = policy.backoff?.maxMs ?? 5 * 60_000;
  const base = Math.min(maxMs, initialMs * factor ** Math.max(0, attempt - 1));
  return Math.round(policy.jitter === false ? base : base / 2 + (random() * base) / 2);
}
