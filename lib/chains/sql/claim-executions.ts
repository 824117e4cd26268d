import "server-only";
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";

/** An execution a worker claimed: what it needs to run it. */
export interface ExecutionJob {
  id: number;
  chainName: string;
  userId: number;
  username: string;
  sessionId: string;
  input: unknown;
  /** The state saved after the last completed step (the input on a first run). */
  state: unknown;
  /** Leaf steps up to this sequence completed in an earlier attempt: a rerun resumes after them. */
  completedThrough: number;
  attempt: number;
  /**
   * Whether others may wait for this one to end: serialized (session, chain, key), throttled per chain, or
   * its user at the per-user limit.
   */
  limited: boolean;
  /** The execution_slots row it holds (freed by whatever ends it). */
  slot: number;
}

export const seconds = (ms: number) => ms / 1000;

/**
 * The default limits a claim honours: the administrator's runtime settings (execution_settings, read by
 * every claim) take precedence; each chain's own settings are stored with its executions.
 */
export interface ClaimLimits {
  /** Running executions in the whole application. */
  appLimit: number;
  /**
   * Running executions per user (system executions count as one user); null: half the effective
   * application-wide limit, at least 1.
   */
  perUserLimit: number | null;
}

/** Half the application-wide limit, at least 1: one user never takes every slot (unless the limit is 1). */
export const defaultPerUserLimit = (appLimit: number) => Math.max(1, Math.floor(appLimit / 2));

/**
 * Claims up to `limit` waiting executions for `workerId` and marks them EXECUTING under a lease, honouring
 * the application-wide limit, the per-user limit, each chain's maxConcurrent and maxConcurrentPerUser and
 * serialization (per session, chain or key).
 *
 * No lock serializes claimers (several worker processes claim at the same time). The application-wide
 * limit is held as rows of execution_slots, taken with FOR UPDATE SKIP LOCKED; each user, and each chain
 * with a serialized or throttled execution waiting, is claimed for by one claimer at a time (a tried
 * advisory lock, skipping what another claimer holds), so the counts behind the per-user and per-chain
 * limits stay true until the claimed rows are visible.
 *
 * Fairness: every user's waiting executions are ranked (priority, then age) and the claim takes them
 * round-robin by rank, counting the user's running ones first — each user's first slot, then each user's
 * second, …, and among equals the user whose last execution started longest ago — so one user's backlog
 * cannot keep another user's execution waiting, even with a single slot.
 *
 * What a claim reads does not grow with the queue (tests/chains-claim-depth.test.ts): of the users with
 * waiting work, the next 256 after `afterUser` per index (chains without limits, chains with limits; one
 * index probe each; migration 0023), going round to the lowest past the highest, and the owners of what the
 * limited path would start next (each throttled chain's next executions, each idle serialized key's first)
 * — all of them when there are no more than that, and all of them too when none of those has work the
 * limits let run; each held user's next few executions of chains without
 * limits (one probe per chain of the user), of a throttled chain its next executions in its order, as many
 * as it has room for, of a serialized chain the first waiting execution of each key (one probe per key).
 *
 * With more than 256 users waiting in an index, "the user served longest ago first" holds among the users a
 * claim looks at: successive claims look at all of them in turn (`onNextAfterUser`), so a user with waiting
 * work is looked at within (users waiting / 256) claims.
 *
 * The statement is the PL/pgSQL function `claim_executions` (migrations 0016, 0018, 0020, 0023): one round trip,
 * one generic plan per statement and connection (its reads stay on the right indexes even when that plan was
 * made on a near-empty queue), and the locks taken before the claiming statement takes its snapshot.
 */
export async function claimExecutions(
  db: Executor,
  {
    workerId,
    limit,
    leaseMs,
    appLimit,
    perUserLimit,
    afterUser = null,
    onLimits,
    onNextAfterUser,
  }: {
    workerId: string;
    limit: number;
    leaseMs: number;
    /**
     * Where this claim looks first among many users waiting: past this user (-1: from the lowest), as the
     * caller's last claim told (`onNextAfterUser`). null: it looks at every user (as before migration 0023).
     */
    afterUser?: number | null;
    /** Told where the next claim should look (pass it as `afterUser`), whatever this one claimed. */
    onNextAfterUser?: (afterUser: number | null) => void;
    /** Told the limits in effect (the runtime settings over the defaults) at every claim. */
    onLimits?: (limits: { appLimit: number; perUserLimit: number }) => void;
  } & ClaimLimits,
): Promise<ExecutionJob[]> {
  const rows = await queryRows<
    ExecutionJob & { id: number | null; appLimit: number; perUserLimit: number; nextAfterUser: number | null }
  >(
    db,
    sql`select * from claim_executions(${workerId}, ${limit}, ${seconds(leaseMs)}, ${appLimit}, ${perUserLimit}::int, ${afterUser}::int)`,
    { prepared: true },
  );
  const [first] = rows;
  if (first) {
    onLimits?.({ appLimit: first.appLimit, perUserLimit: first.perUserLimit });
    onNextAfterUser?.(first.nextAfterUser);
  }
  return rows
    .filter((row) => row.id !== null)
    .map(({ appLimit: _app, perUserLimit: _perUser, nextAfterUser: _next, ...job }) => job as ExecutionJob);
}
