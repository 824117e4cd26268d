import "server-only";
import { RateLimiterDrizzle, type RateLimiterRes } from "rate-limiter-flexible";
import { type Executor, getDb } from "@/db/client";
import { rateLimits } from "@/db/schema";
import { getEnv } from "@/lib/env";

/**
 * Sign-in throttling, counted in PostgreSQL (or the embedded PGlite) so every web process shares it:
 * - one account from one address: 5 failures in 15 min, then 60 s without attempts (a typo is cheap);
 * - one account from anywhere: 20 failures in an hour, then 15 min (guessing from many addresses);
 * - one address, any account: SIGNIN_ADDRESS_FAILURES_PER_HOUR (50) failures in an hour, then 15 min
 *   (spraying many accounts).
 * Only failures count, so people signing in from one office address are not held up by each other.
 */
export function signInLimits() {
  // `points` are the failures let through; the next one starts the wait (so 5 failures, then 60 s).
  const limit = (failures: number, duration: number, blockDuration: number) => ({
    failures,
    points: failures - 1,
    duration,
    blockDuration,
  });
  return {
    accountAddress: limit(5, 15 * 60, 60),
    account: limit(20, 60 * 60, 15 * 60),
    address: limit(getEnv().SIGNIN_ADDRESS_FAILURES_PER_HOUR, 60 * 60, 15 * 60),
  };
}

type LimitName = keyof ReturnType<typeof signInLimits>;
const LIMIT_NAMES: LimitName[] = ["accountAddress", "account", "address"];

const limiters = new WeakMap<object, Record<LimitName, RateLimiterDrizzle>>();

function limitersFor(db: Executor): Record<LimitName, RateLimiterDrizzle> {
  let found = limiters.get(db);
  if (!found) {
    const make = (name: LimitName) =>
      new RateLimiterDrizzle({
        storeClient: db,
        schema: rateLimits,
        keyPrefix: `signin-${name}`,
        clearExpiredByTimeout: false,
        points: signInLimits()[name].points,
        duration: signInLimits()[name].duration,
        blockDuration: signInLimits()[name].blockDuration,
      });
    found = { accountAddress: make("accountAddress"), account: make("account"), address: make("address") };
    limiters.set(db, found);
  }
  return found;
}

function keys({ username, address }: { username: string; address: string }): Record<LimitName, string> {
  const account = username.trim().toLowerCase();
  return { accountAddress: `${account}@${address}`, account, address };
}

/** Seconds to wait before the next attempt, or 0 when one may try now. */
export async function signInRetryAfter(
  who: { username: string; address: string },
  db: Executor = getDb(),
): Promise<number> {
  const all = limitersFor(db);
  const key = keys(who);
  let waitMs = 0;
  for (const name of LIMIT_NAMES) {
    const state = await all[name].get(key[name]);
    if (state && state.consumedPoints > all[name].points) {
      waitMs = Math.max(waitMs, state.msBeforeNext);
    }
  }
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
}

/** Counts a failed attempt; returns the wait it caused (0 while attempts remain). */
export async function recordSignInFailure(
  who: { username: string; address: string },
  db: Executor = getDb(),
): Promise<number> {
  const all = limitersFor(db);
  const key = keys(who);
  let waitMs = 0;
  for (const name of LIMIT_NAMES) {
    try {
      await all[name].consume(key[name]);
    } catch (rejection) {
      if (rejection instanceof Error) throw rejection;
      waitMs = Math.max(waitMs, (rejection as RateLimiterRes).msBeforeNext);
    }
  }
  return waitMs > 0 ? Math.ceil(waitMs / 1000) : 0;
}

/** A successful sign-in forgives that account's recent failures from this address. */
export async function recordSignInSuccess(
  who: { username: string; address: string },
  db: Executor = getDb(),
): Promise<void> {
  await limitersFor(db).accountAddress.delete(keys(who).accountAddress);
}

export function tooManyAttemptsMessage(seconds: number): string {
  return `Too many attempts — try again in ${seconds} s.`;
}

/** "Send a test notification": a few per minute per user (each fans out to every device). */
export const TEST_SEND_LIMIT = { points: 5, duration: 60 };

const testSendLimiters = new WeakMap<object, RateLimiterDrizzle>();

/** Counts a test send of this user; returns 0 when allowed, else the seconds to wait. */
export async function consumeTestSend(
  { userId }: { userId: number },
  db: Executor = getDb(),
): Promise<number> {
  let limiter = testSendLimiters.get(db);
  if (!limiter) {
    limiter = new RateLimiterDrizzle({
      storeClient: db,
      schema: rateLimits,
      keyPrefix: "test-send",
      clearExpiredByTimeout: false,
      ...TEST_SEND_LIMIT,
    });
    testSendLimiters.set(db, limiter);
  }
  try {
    await limiter.consume(String(userId));
    return 0;
  } catch (rejection) {
    if (rejection instanceof Error) throw rejection;
    return Math.max(1, Math.ceil((rejection as RateLimiterRes).msBeforeNext / 1000));
  }
}
