-- The executions claim (lib/chains/sql/claim-executions.ts calls it): one round trip, and a plan PostgreSQL
-- keeps per connection. A function so that the claim lock is taken before the statements that count running
-- executions take their snapshots (each statement of a PL/pgSQL function sees what committed before it),
-- without a client-side transaction. Change it with CREATE OR REPLACE in a new migration.
CREATE OR REPLACE FUNCTION claim_executions(
  p_worker_id text, p_limit int, p_lease_secs double precision, p_app_limit int, p_per_user_limit int
) RETURNS TABLE (
  id int, "chainName" text, "userId" int, username text, "sessionId" text, input jsonb, state jsonb,
  "completedThrough" int, attempt int, limited boolean, "appLimit" int, "perUserLimit" int
) LANGUAGE plpgsql VOLATILE AS $claim$
#variable_conflict use_column
DECLARE
  v_running int;
  v_app int;
  v_per_user int;
  v_take int;
BEGIN
  -- One claimer at a time across all processes (until this statement's transaction commits), so the counts
  -- below stay true until the claimed rows are visible to the next claimer.
  PERFORM pg_advisory_xact_lock(72310002);
  SELECT (SELECT count(*)::int FROM executions x WHERE x.status = 'EXECUTING' AND NOT x.awaiting_child),
         coalesce((SELECT s.max_concurrent FROM execution_settings s WHERE s.scope = 'app' AND s.chain_name = ''),
                  p_app_limit)
    INTO v_running, v_app;
  -- The per-user limit: the runtime setting, else the default given, else half the application-wide one.
  v_per_user := coalesce(
    (SELECT s.max_concurrent FROM execution_settings s WHERE s.scope = 'user' AND s.chain_name = ''),
    p_per_user_limit, greatest(1, v_app / 2));
  v_take := least(p_limit, v_app - v_running);
  IF v_take > 0 AND v_per_user > 0 THEN
    RETURN QUERY
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
      where status in ('ENQUEUED', 'SCHEDULED')
        and (serialize or max_concurrent is not null or max_per_user is not null)
      union
      select s.chain_name from chain_settings s
      where exists (select 1 from executions e
                    where e.chain_name = s.chain_name and e.status in ('ENQUEUED', 'SCHEDULED'))
    ),
    queued as (
      select id, chain_name, serialize_key, serialize, max_per_user, priority,
        coalesce((select s.max_concurrent from chain_settings s where s.chain_name = executions.chain_name),
                 max_concurrent) as max_concurrent,
        coalesce(user_id, 0) as user_key,
        row_number() over (partition by chain_name, serialize_key order by id) as serialize_rank
      from executions
      -- (an array, so that the chains are known first and only their rows are read, by index)
      where chain_name = any(array(select chain_name from limited_chains))
        and (status = 'ENQUEUED' or (status = 'SCHEDULED' and run_at <= clock_timestamp())) and not abort_requested
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
        order by priority desc nulls last, id
        limit v_take) x
      where w.user_key is not null
    ),
    -- Scheduled runs whose time came: the longest-due thousand (an index range scan at any depth), then by
    -- priority among them.
    due as (
      select id, priority, user_key from (
        select id, priority, coalesce(user_id, 0) as user_key from executions
        where status = 'SCHEDULED' and run_at <= clock_timestamp()
          and not abort_requested and not serialize and max_concurrent is null and max_per_user is null
          and chain_name not in (select chain_name from chain_settings)
        order by run_at
        limit 1000) d
      order by priority desc, id
      limit v_take
    ),
    candidates as (
      select * from limited union all select * from unlimited union all select * from due
    ),
    -- When each candidate user last had an execution started (one index probe per user, the newest
    -- start): between users whose next execution would take the same slot, the one served longer ago goes
    -- first, so even with one slot users take turns.
    served as materialized (
      select k.user_key, (select max(x.started_at) from executions x
                          where coalesce(x.user_id, 0) = k.user_key) as last_start
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
      where user_rank + user_running <= v_per_user
      -- Round-robin among users by the slot each would take (running ones count), the user served longer
      -- ago first; then higher priority first; among equals, oldest first.
      order by user_rank + user_running, last_start nulls first, priority desc, id
      limit v_take
    ),
    -- Users at their limit after this claim: their executions' ends must wake the other workers.
    full_users as (
      select user_key from picked group by user_key, user_running
      having count(*) + user_running >= v_per_user
    ),
    claimed as (
    update executions e
    set status = 'EXECUTING', lease_owner = p_worker_id, attempt = e.attempt + 1,
        lease_expires_at = clock_timestamp() + make_interval(secs => p_lease_secs),
        started_at = clock_timestamp(), updated_at = clock_timestamp(), state = coalesce(e.state, e.input),
        awaiting_child = false
    where e.id = any(array(select id from picked)) and e.status in ('ENQUEUED', 'SCHEDULED')
    returning e.id, e.chain_name as "chainName", coalesce(e.user_id, 0) as "userId",
      coalesce((select u.username from users u where u.id = e.user_id), 'system') as username,
      e.session_id as "sessionId", e.input, e.state, e.completed_through as "completedThrough", e.attempt,
      (e.serialize or e.max_concurrent is not null or e.max_per_user is not null
       or e.chain_name in (select chain_name from chain_settings)
       or coalesce(e.user_id, 0) in (select user_key from full_users)) as limited
    )
    select c.id, c."chainName", c."userId", c.username, c."sessionId", c.input, c.state, c."completedThrough",
      c.attempt, c.limited, v_app, v_per_user
    from claimed c;
  END IF;
  IF NOT FOUND OR v_take <= 0 OR v_per_user <= 0 THEN
    -- Nothing claimed: one row with the limits in effect only.
    RETURN QUERY SELECT NULL::int, NULL::text, NULL::int, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb,
      NULL::int, NULL::int, NULL::boolean, v_app, v_per_user;
  END IF;
END
$claim$;
