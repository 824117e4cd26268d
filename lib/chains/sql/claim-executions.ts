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
  /** Whether others may wait for this one to end: serialized (session, chain, key) or throttled per chain. */
  limited: boolean;
}

export const seconds = (ms: number) => ms / 1000;

/** Waiting and due: ENQUEUED, or SCHEDULED whose run time came. */
const waiting = sql.raw(`(status = 'ENQUEUED' or (status = 'SCHEDULED' and run_at <= clock_timestamp()))`);

/**
 * Claims up to `limit` waiting executions for `workerId` and marks them EXECUTING under a lease, honouring
 * the application-wide limit, each chain's maxConcurrent and serialization (per session, chain or key). One claimer at a
 * time across all processes (a transaction-level advisory lock), so the counts stay true until commit.
 */
export function claimExecutions(
  db: Database,
  {
    workerId,
    limit,
    leaseMs,
    appLimit,
  }: { workerId: string; limit: number; leaseMs: number; appLimit: number },
): Promise<ExecutionJob[]> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CLAIM_LOCK})`);
    const [usage] = await queryRows<{ running: number }>(
      tx,
      sql`select count(*)::int as running from executions where status = 'EXECUTING'`,
    );
    const take = Math.min(limit, appLimit - (usage?.running ?? 0));
    if (take <= 0) return [];
    return queryRows<ExecutionJob>(
      tx,
      sql`
      with running as (
        select chain_name, serialize_key from executions where status = 'EXECUTING'
      ),
      -- Only chains with a serialized or throttled execution waiting need the window functions below;
      -- every other execution is eligible as it is (the second branch of "picked", an index scan).
      limited_chains as (
        select distinct chain_name from executions
        where ${waiting} and not abort_requested and (serialize or max_concurrent is not null)
      ),
      queued as (
        select id, chain_name, serialize_key, serialize, max_concurrent, priority,
          row_number() over (partition by chain_name, serialize_key order by id) as serialize_rank
        from executions
        where ${waiting} and not abort_requested
          and chain_name in (select chain_name from limited_chains)
      ),
      eligible as (
        select q.*, row_number() over (partition by q.chain_name order by q.priority desc, q.id) as chain_rank
        from queued q
        where not q.serialize or (q.serialize_rank = 1 and not exists (
          select 1 from running r where r.chain_name = q.chain_name and r.serialize_key = q.serialize_key))
      ),
      picked as (
        select id from (
          (select e.id, e.priority from eligible e
           where e.max_concurrent is null
              or e.chain_rank + (select count(*) from running r where r.chain_name = e.chain_name)
                 <= e.max_concurrent
           order by e.priority desc, e.id
           limit ${take})
          union
          (select id, priority from executions
           where status = 'ENQUEUED' and not abort_requested and not serialize and max_concurrent is null
           order by priority desc, id
           limit ${take})
          union
          (select id, priority from executions
           where status = 'SCHEDULED' and run_at <= clock_timestamp()
             and not abort_requested and not serialize and max_concurrent is null
           order by priority desc, id
           limit ${take})
        ) candidates
        -- Higher priority first; among equals, oldest first.
        order by priority desc, id
        limit ${take}
      )
      update executions e
      set status = 'EXECUTING', lease_owner = ${workerId}, attempt = e.attempt + 1,
          lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds(leaseMs)}),
          started_at = clock_timestamp(), updated_at = clock_timestamp(), state = coalesce(e.state, e.input)
      where e.id in (select id from picked) and e.status in ('ENQUEUED', 'SCHEDULED')
      returning e.id, e.chain_name as "chainName", coalesce(e.user_id, 0) as "userId",
        coalesce((select u.username from users u where u.id = e.user_id), 'system') as username,
        e.session_id as "sessionId", e.input, e.state, e.completed_through as "completedThrough", e.attempt,
        (e.serialize or e.max_concurrent is not null) as limited`,
    );
  });
}
