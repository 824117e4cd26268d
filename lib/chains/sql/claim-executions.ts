import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";

/** Advisory lock held (per transaction) while claiming, so limits hold across worker processes. */
const CLAIM_LOCK = 72_310_002;

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
}

export const seconds = (ms: number) => ms / 1000;

/** Waiting and due: ENQUEUED, or SCHEDULED whose run time came. */
const waiting = sql.raw(`(status = 'ENQUEUED' or (status = 'SCHEDULED' and run_at <= clock_timestamp()))`);

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
 * serialization (per session, chain or key). One claimer at a time across all processes (a
 * transaction-level advisory lock), so the counts stay true until commit.
 *
 * Fairness: every user's waiting executions are ranked (priority, then age) and the claim takes them
 * round-robin by rank, counting the user's running ones first — each user's first slot, then each user's
 * second, …, and among equals the user whose last execution started longest ago — so one user's backlog
 * cannot keep another user's execution waiting, even with a single slot. Executions of chains without limits are found with index scans only:
 * the distinct users with waiting work (a skip scan over executions_user_ready_idx, one probe per user)
 * and, per user, the next few by priority.
 */
export function claimExecutions(
  db: Database,
  {
    workerId,
    limit,
    leaseMs,
    appLimit,
    perUserLimit,
    onLimits,
  }: {
    workerId: string;
    limit: number;
    leaseMs: number;
    /** Told the limits in effect (the runtime settings over the defaults) at every claim. */
    onLimits?: (limits: { appLimit: number; perUserLimit: number }) => void;
  } & ClaimLimits,
): Promise<ExecutionJob[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
    const [usage] = await queryRows<{ running: number; app: number | null; perUser: number | null }>(
      tx,
      sql`select (select count(*)::int from executions where status = 'EXECUTING' and not awaiting_child) as running,
            (select max_concurrent from execution_settings where scope = 'app' and chain_name = '') as app,
            (select max_concurrent from execution_settings where scope = 'user' and chain_name = '') as "perUser"`,
    );
    const app = usage?.app ?? appLimit;
    const perUser = usage?.perUser ?? perUserLimit ?? defaultPerUserLimit(app);
    onLimits?.({ appLimit: app, perUserLimit: perUser });
    const take = Math.min(limit, app - (usage?.running ?? 0));
    if (take <= 0 || perUser <= 0) return [];
    return queryRows<ExecutionJob>(
      tx,
      sql`
      with recursive running as (
        -- A parent waiting for its child (ctx.runChild) holds no slot: not counted by any limit.
        select chain_name, serialize_key, coalesce(user_id, 0) as user_key from executions
        where status = 'EXECUTING' and not awaiting_child
      ),
      user_running as (
        select user_key, count(*)::int as n from running group by user_key
      ),
      -- Per-chain limits an administrator set at run time: those chains take the windowed path below.
      chain_settings as (
        select chain_name, max_concurrent from execution_settings where scope = 'chain'
      ),
      -- Only chains with a serialized or throttled execution waiting need the window functions below;
      -- every other execution is eligible as it is (the index scans of "unlimited" and "due").
      limited_chains as (
        select distinct chain_name from executions
        where ${waiting} and not abort_requested
          and (serialize or max_concurrent is not null or max_per_user is not null
               or chain_name in (select chain_name from chain_settings))
      ),
      queued as (
        select id, chain_name, serialize_key, serialize, max_per_user, priority,
          coalesce((select s.max_concurrent from chain_settings s where s.chain_name = executions.chain_name),
                   max_concurrent) as max_concurrent,
          coalesce(user_id, 0) as user_key,
          row_number() over (partition by chain_name, serialize_key order by id) as serialize_rank
        from executions
        where ${waiting} and not abort_requested
          and chain_name in (select chain_name from limited_chains)
      ),
      unblocked as (
        select q.* from queued q
        where not q.serialize or (q.serialize_rank = 1 and not exists (
          select 1 from running r where r.chain_name = q.chain_name and r.serialize_key = q.serialize_key))
      ),
      eligible as (
        select u.*,
          row_number() over (partition by u.chain_name order by u.priority desc, u.id) as chain_rank,
          row_number() over (partition by u.chain_name, u.user_key order by u.priority desc, u.id) as chain_user_rank
        from unblocked u
      ),
      limited as (
        select e.id, e.priority, e.user_key from eligible e
        where (e.max_concurrent is null
               or e.chain_rank + (select count(*) from running r where r.chain_name = e.chain_name)
                  <= e.max_concurrent)
          and (e.max_per_user is null
               or e.chain_user_rank + (select count(*) from running r
                                       where r.chain_name = e.chain_name and r.user_key = e.user_key)
                  <= e.max_per_user)
      ),
      -- The distinct users with ENQUEUED executions: one index probe each (a loose index scan).
      waiting_users (user_key) as (
        (select coalesce(user_id, 0) from executions where status = 'ENQUEUED'
         order by coalesce(user_id, 0) limit 1)
        union all
        select (select coalesce(e.user_id, 0) from executions e
                where e.status = 'ENQUEUED' and coalesce(e.user_id, 0) > w.user_key
                order by coalesce(e.user_id, 0) limit 1)
        from waiting_users w where w.user_key is not null
      ),
      unlimited as (
        select x.id, x.priority, x.user_key from waiting_users w
        cross join lateral (
          select id, priority, coalesce(user_id, 0) as user_key from executions
          where status = 'ENQUEUED' and coalesce(user_id, 0) = w.user_key
            and not abort_requested and not serialize and max_concurrent is null and max_per_user is null
            and chain_name not in (select chain_name from chain_settings)
          order by priority desc, id
          limit ${take}) x
        where w.user_key is not null
      ),
      due as (
        select id, priority, coalesce(user_id, 0) as user_key from executions
        where status = 'SCHEDULED' and run_at <= clock_timestamp()
          and not abort_requested and not serialize and max_concurrent is null and max_per_user is null
          and chain_name not in (select chain_name from chain_settings)
        order by priority desc, id
        limit ${take}
      ),
      candidates as (
        select * from limited union all select * from unlimited union all select * from due
      ),
      -- When each candidate user last had an execution started (from their 20 latest, an index probe each):
      -- between users whose next execution would take the same slot, the one served longer ago goes first,
      -- so even with one slot users take turns.
      served as (
        select k.user_key, case when k.user_key = 0
          then (select max(t.started_at) from (select x.started_at from executions x where x.user_id is null
                order by x.created_at desc limit 20) t)
          else (select max(t.started_at) from (select x.started_at from executions x where x.user_id = k.user_key
                order by x.created_at desc limit 20) t) end as last_start
        from (select distinct user_key from candidates) k
      ),
      ranked as (
        select c.id, c.priority, c.user_key, s.last_start,
          row_number() over (partition by c.user_key order by c.priority desc, c.id) as user_rank,
          coalesce((select n from user_running u where u.user_key = c.user_key), 0) as user_running
        from candidates c join served s on s.user_key = c.user_key
      ),
      picked as (
        select id, user_key, user_running from ranked
        where user_rank + user_running <= ${perUser}
        -- Round-robin among users by the slot each would take (running ones count), the user served longer
        -- ago first; then higher priority first; among equals, oldest first.
        order by user_rank + user_running, last_start nulls first, priority desc, id
        limit ${take}
      ),
      -- Users at their limit after this claim: their executions' ends must wake the other workers.
      full_users as (
        select user_key from picked group by user_key, user_running
        having count(*) + user_running >= ${perUser}
      )
      update executions e
      set status = 'EXECUTING', lease_owner = ${workerId}, attempt = e.attempt + 1,
          lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds(leaseMs)}),
          started_at = clock_timestamp(), updated_at = clock_timestamp(), state = coalesce(e.state, e.input),
          awaiting_child = false
      where e.id in (select id from picked) and e.status in ('ENQUEUED', 'SCHEDULED')
      returning e.id, e.chain_name as "chainName", coalesce(e.user_id, 0) as "userId",
        coalesce((select u.username from users u where u.id = e.user_id), 'system') as username,
        e.session_id as "sessionId", e.input, e.state, e.completed_through as "completedThrough", e.attempt,
        (e.serialize or e.max_concurrent is not null or e.max_per_user is not null
         or e.chain_name in (select chain_name from chain_settings)
         or coalesce(e.user_id, 0) in (select user_key from full_users)) as limited`,
    );
  });
}
