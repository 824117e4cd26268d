-- The executions claim (0023) with a bounded look at the keys of a serialized chain. Each claim read every
-- key with waiting work of each serialized chain it held (one index probe per key, then the key's first
-- execution and whether one of the key's is running): with one execution waiting for each of 100,000 keys,
-- ~1.2 s per claim (bench, depth part).
--
-- Given cursors (`p_after_keys`, a JSON object: chain name → the key where the worker's last claim stopped
-- looking; {} from the lowest), a claim now looks at the next 256 keys with waiting work after the chain's
-- cursor, going round to the lowest past the highest, as 0023 does for users, and returns where the next
-- claim should look (`nextAfterKeys`: the 256th key of each chain whose keys it did not see whole), whatever
-- it claimed. A key with waiting work is looked at within (keys waiting / 256) claims; among the keys looked
-- at, the claim serves their owners in the same order as before. With 256 keys or fewer it sees them all:
-- the claim is the one of 0023. When nothing can be claimed from what the windows hold, the claim looks at
-- every user and every key, as 0023 did, before it gives up; without cursors (NULL: callers of 0023's six
-- arguments) it looks at every key, as 0023 did.

-- The keys of `p_chain` with waiting serialized executions in (p_after, p_upto] (NULL: unbounded), lowest
-- first, at most p_count: one probe each of executions_serialized_idx. (The bounds are not written as
-- "p_after IS NULL OR …": in a generic plan such a bound is a filter, not where the index read starts.)
CREATE FUNCTION claim_window_keys(p_chain text, p_after text, p_upto text, p_count int) RETURNS text[]
LANGUAGE plpgsql STABLE
SET plan_cache_mode = force_generic_plan
SET jit = off
SET enable_sort = off
SET enable_seqscan = off
AS $window$
DECLARE
  v_first text;
BEGIN
  IF p_count <= 0 THEN
    RETURN '{}';
  END IF;
  IF p_after IS NULL THEN
    v_first := (SELECT x.serialize_key FROM executions x
                WHERE x.chain_name = p_chain AND x.status IN ('ENQUEUED', 'SCHEDULED') AND x.serialize
                ORDER BY x.serialize_key LIMIT 1);
  ELSE
    v_first := (SELECT x.serialize_key FROM executions x
                WHERE x.chain_name = p_chain AND x.status IN ('ENQUEUED', 'SCHEDULED') AND x.serialize
                  AND x.serialize_key > p_after
                ORDER BY x.serialize_key LIMIT 1);
  END IF;
  -- Each step reads the next key; past p_upto the walk stops (that one key is read, and left out).
  RETURN ARRAY(
    WITH RECURSIVE keys_after (serialize_key, n) AS (
      SELECT v_first, 1
      UNION ALL
      SELECT (SELECT x.serialize_key FROM executions x
              WHERE x.chain_name = p_chain AND x.status IN ('ENQUEUED', 'SCHEDULED') AND x.serialize
                AND x.serialize_key > k.serialize_key
              ORDER BY x.serialize_key LIMIT 1), k.n + 1
      FROM keys_after k
      WHERE k.serialize_key IS NOT NULL AND k.n < p_count AND (p_upto IS NULL OR k.serialize_key <= p_upto)
    )
    SELECT k.serialize_key FROM keys_after k
    WHERE k.serialize_key IS NOT NULL AND (p_upto IS NULL OR k.serialize_key <= p_upto));
END
$window$;--> statement-breakpoint
DROP FUNCTION claim_executions(text, int, double precision, int, int, int);--> statement-breakpoint
CREATE FUNCTION claim_executions(
  p_worker_id text, p_limit int, p_lease_secs double precision, p_app_limit int, p_per_user_limit int,
  p_after_user int DEFAULT NULL, p_after_keys jsonb DEFAULT NULL
) RETURNS TABLE (
  id int, "chainName" text, "userId" int, username text, "sessionId" text, input jsonb, state jsonb,
  "completedThrough" int, attempt int, limited boolean, slot int, "appLimit" int, "perUserLimit" int,
  "nextAfterUser" int, "nextAfterKeys" jsonb
) LANGUAGE plpgsql VOLATILE
-- One plan per statement and connection, made once: the planner otherwise planned the claiming statement
-- afresh at every call (its generic plan looks costlier than one for the values at hand), about half of
-- the claim's time (5.7 → 3.1 ms at 100,000 queued on 2 vCPUs). The generic plans read the same indexes.
-- No JIT: a generic plan's estimates (any number of waiting executions) are above jit_above_cost, and
-- compiling it took 170 ms per call for a statement that runs in 1 ms.
-- A plan made while the queue was empty must still read indexes in order once it is long: the planner sizes
-- partial indexes as they are when it plans, and with them near empty it chose to sort another index's
-- rows instead of reading the right one in order (96,000 rows read per claim after a burst of 5,000).
-- Sorts of the base table and sequential scans are therefore ruled out here (sorts of the few candidates
-- remain: nothing else can order them).
SET plan_cache_mode = force_generic_plan
SET jit = off
SET enable_sort = off
SET enable_seqscan = off
AS $claim$
#variable_conflict use_column
DECLARE
  v_app int;
  v_per_user int;
  v_slots int[];
  v_take int := 0;
  v_candidates int[];
  v_next int := 1;
  v_users int[];
  v_chains text[];
  v_claimed boolean := false;
  v_waited boolean := false;
  v_round int;
  -- Users with waiting work looked at per index in this pass (the first; the second sees all of them).
  v_window int;
  -- Without a cursor, only the second pass: every user, as 0020.
  v_pass int := CASE WHEN p_after_user IS NULL THEN 2 ELSE 1 END;
  v_cursor int := p_after_user;
  -- Where the next claim looks (returned on every row): the window's end that reached least far round.
  v_next_cursor int;
  v_reach bigint;
  v_unlimited int[];
  v_limited int[];
  v_heads int[];
  -- The first waiting execution of each idle key of the held serialized chains (read once per pass).
  v_serial_heads int[];
  -- Per held serialized chain, the keys looked at in this pass, and where the next claim looks on
  -- (returned on every row; a chain whose keys were all seen has no entry).
  v_chain text;
  v_after_key text;
  v_keys text[];
  v_next_keys jsonb := '{}';
  -- The next executions of the held throttled chains, as many as each one's limit lets start (once per pass).
  v_throttled_next int[];
  v_truncated boolean;
BEGIN
  SELECT coalesce((SELECT s.max_concurrent FROM execution_settings s WHERE s.scope = 'app' AND s.chain_name = ''),
                  p_app_limit),
         (SELECT s.max_concurrent FROM execution_settings s WHERE s.scope = 'user' AND s.chain_name = '')
    INTO v_app, v_per_user;
  -- The per-user limit: the runtime setting, else the default given, else half the application-wide one.
  v_per_user := coalesce(v_per_user, p_per_user_limit, greatest(1, v_app / 2));
  IF v_per_user > 0 AND p_limit > 0 THEN
    SELECT array_agg(f.slot ORDER BY f.slot) INTO v_slots FROM (
      SELECT s.slot FROM execution_slots s WHERE s.slot <= v_app AND s.execution_id IS NULL
      ORDER BY s.slot LIMIT p_limit FOR UPDATE SKIP LOCKED) f;
    v_take := coalesce(array_length(v_slots, 1), 0);
  END IF;
  IF v_take > 0 THEN
    -- Chains with a serialized or throttled execution waiting (or a runtime per-chain limit), each one this
    -- claimer can lock.
    -- The chains with limits are found one index probe per chain (a DISTINCT read every waiting execution
    -- of them); every chain with a runtime setting is one, waiting work or not (a probe for its work was
    -- planned as a sequential scan and read the whole table when it had none).
    SELECT coalesce(array_agg(l.chain_name), '{}') INTO v_chains FROM (
      WITH RECURSIVE limited_chains (chain_name) AS (
        (SELECT x.chain_name FROM executions x
         WHERE x.status IN ('ENQUEUED', 'SCHEDULED')
           AND (x.serialize OR x.max_concurrent IS NOT NULL OR x.max_per_user IS NOT NULL)
         ORDER BY x.chain_name LIMIT 1)
        UNION ALL
        SELECT (SELECT x.chain_name FROM executions x
                WHERE x.status IN ('ENQUEUED', 'SCHEDULED')
                  AND (x.serialize OR x.max_concurrent IS NOT NULL OR x.max_per_user IS NOT NULL)
                  AND x.chain_name > c.chain_name
                ORDER BY x.chain_name LIMIT 1)
        FROM limited_chains c WHERE c.chain_name IS NOT NULL
      )
      SELECT c.chain_name FROM limited_chains c WHERE c.chain_name IS NOT NULL
      UNION
      SELECT s.chain_name FROM execution_settings s WHERE s.scope = 'chain'
    ) l WHERE pg_try_advisory_xact_lock(72310006, hashtext(l.chain_name));
    -- Passes: the first looks at a window of the users with waiting work; the second, only when that
    -- window was not all of them and nothing in it could be claimed, at every one of them.
    LOOP
      -- The users with waiting work, per index (chains without limits, chains with limits): the next v_window
      -- after the cursor, then from the lowest up to the cursor for the room left (pass 2: all of them).
      v_window := CASE WHEN v_pass = 1 THEN 256 ELSE 2147483647 END;
      IF v_pass = 2 THEN
        v_cursor := -1;
      END IF;
      v_unlimited := claim_window_users(false, v_cursor, 2147483647, v_window);
      v_limited := claim_window_users(true, v_cursor, 2147483647, v_window);
      IF v_pass = 1 THEN
        v_unlimited := v_unlimited
          || claim_window_users(false, -1, v_cursor, v_window - coalesce(array_length(v_unlimited, 1), 0));
        v_limited := v_limited
          || claim_window_users(true, -1, v_cursor, v_window - coalesce(array_length(v_limited, 1), 0));
        -- The next claim looks on from the end of the window that reached least far round from the cursor
        -- (an index with fewer users than the window was seen whole and does not count); -1: from the lowest.
        v_next_cursor := -1;
        v_reach := NULL;
        IF coalesce(array_length(v_unlimited, 1), 0) >= v_window THEN
          v_next_cursor := v_unlimited[v_window];
          v_reach := v_next_cursor::bigint - v_cursor + CASE WHEN v_next_cursor > v_cursor THEN 0 ELSE 4294967296 END;
        END IF;
        IF coalesce(array_length(v_limited, 1), 0) >= v_window
           AND (v_reach IS NULL OR v_limited[v_window]::bigint - v_cursor
                + CASE WHEN v_limited[v_window] > v_cursor THEN 0 ELSE 4294967296 END < v_reach) THEN
          v_next_cursor := v_limited[v_window];
        END IF;
      END IF;
      -- Fewer than the window in both: every such user was seen (the cursor made no difference).
      v_truncated := v_pass = 1 AND (coalesce(array_length(v_unlimited, 1), 0) >= v_window
        OR coalesce(array_length(v_limited, 1), 0) >= v_window);
      -- Of each held serialized chain, the first waiting execution of each key with none running (its other
      -- ones wait for it): the keys with waiting work one index probe each (executions_serialized_idx), not
      -- every execution. Read once per pass. Given cursors (pass 1), the next 256 keys after the chain's
      -- cursor, going round to the lowest past the highest; otherwise every key, as 0023 did.
      v_serial_heads := '{}';
      FOREACH v_chain IN ARRAY v_chains LOOP
        IF v_pass = 1 AND p_after_keys IS NOT NULL THEN
          v_after_key := p_after_keys ->> v_chain;
          v_keys := claim_window_keys(v_chain, v_after_key, NULL, 256);
          IF v_after_key IS NOT NULL THEN
            v_keys := v_keys || claim_window_keys(v_chain, NULL, v_after_key, 256 - coalesce(array_length(v_keys, 1), 0));
          END IF;
          IF coalesce(array_length(v_keys, 1), 0) >= 256 THEN
            v_next_keys := v_next_keys || jsonb_build_object(v_chain, v_keys[256]);
            v_truncated := true;
          END IF;
        ELSE
          v_keys := claim_window_keys(v_chain, NULL, NULL, 2147483647);
        END IF;
        v_serial_heads := v_serial_heads || ARRAY(
          SELECT h.id FROM unnest(v_keys) k(serialize_key)
          CROSS JOIN LATERAL (
            SELECT e.id, e.serialize_key FROM executions e
            WHERE e.chain_name = v_chain AND e.serialize_key = k.serialize_key
              AND e.status IN ('ENQUEUED', 'SCHEDULED') AND e.serialize
              AND (e.status = 'ENQUEUED' OR e.run_at <= now()) AND NOT e.abort_requested
            ORDER BY e.id LIMIT 1) h
          WHERE NOT EXISTS (
            SELECT 1 FROM executions r
            WHERE r.status = 'EXECUTING' AND NOT r.awaiting_child AND r.chain_name = v_chain
              AND r.serialize_key = h.serialize_key));
      END LOOP;
      -- Of each held throttled chain, its next waiting executions in its order, as many as it has room for (no
      -- later one could take a place under its limit): the limit in effect is the runtime setting, else the
      -- largest among its waiting executions (one index probe).
      v_throttled_next := ARRAY(
        SELECT x.id FROM unnest(v_chains) c(chain_name)
        CROSS JOIN LATERAL (
          SELECT coalesce((SELECT s.max_concurrent FROM execution_settings s
                           WHERE s.scope = 'chain' AND s.chain_name = c.chain_name),
                          (SELECT max(x.max_concurrent) FROM executions x
                           WHERE x.chain_name = c.chain_name AND x.status IN ('ENQUEUED', 'SCHEDULED')
                             AND (x.serialize OR x.max_concurrent IS NOT NULL OR x.max_per_user IS NOT NULL))) AS max_n,
                 (SELECT count(*)::int FROM executions r
                  WHERE r.status = 'EXECUTING' AND NOT r.awaiting_child AND r.chain_name = c.chain_name) AS running_n) m
        CROSS JOIN LATERAL (
          SELECT e.id FROM executions e
          WHERE e.chain_name = c.chain_name AND e.status IN ('ENQUEUED', 'SCHEDULED') AND NOT e.serialize
            AND (e.status = 'ENQUEUED' OR e.run_at <= now()) AND NOT e.abort_requested
          ORDER BY e.priority DESC NULLS LAST, e.id
          LIMIT greatest(m.max_n - m.running_n, 0)) x
        WHERE m.max_n IS NOT NULL);
      -- The owners of what the limited path below would start next, whoever they are.
      v_heads := ARRAY(
        SELECT DISTINCT coalesce(e.user_id, 0) FROM executions e
        WHERE e.id = ANY(v_serial_heads || v_throttled_next));
      -- The users with work due and below their limit, in the order the claim serves them: fewest running
      -- first, then the one served longest ago.
      v_candidates := ARRAY(
        WITH
        -- (now(), the start of this claim, bounds the index range; clock_timestamp() is volatile and would not)
        due_users AS (
          SELECT DISTINCT coalesce(d.user_id, 0) AS user_key FROM (
            SELECT x.user_id FROM executions x WHERE x.status = 'SCHEDULED' AND x.run_at <= now()
            ORDER BY x.run_at LIMIT 1000) d
        ),
        running_users AS (
          SELECT coalesce(x.user_id, 0) AS user_key, count(*)::int AS n FROM executions x
          WHERE x.status = 'EXECUTING' AND NOT x.awaiting_child GROUP BY 1
        )
        SELECT k.user_key FROM (
          SELECT w.user_key FROM unnest(v_unlimited || v_limited || v_heads) w(user_key)
          UNION SELECT u.user_key FROM due_users u) k
        LEFT JOIN running_users r ON r.user_key = k.user_key
        WHERE coalesce(r.n, 0) < v_per_user
        ORDER BY coalesce(r.n, 0),
          (SELECT max(x.started_at) FROM executions x WHERE coalesce(x.user_id, 0) = k.user_key) NULLS FIRST,
          k.user_key);
      v_next := 1;
      -- Rounds: lock as many of the next candidates as there are slots (skipping users another claimer holds,
      -- so others claim for the rest at the same time) and claim among them; a round that finds nothing
      -- (those users' work is held by chain limits) goes on with twice as many of the next candidates, so
      -- many users whose work all waits behind full chains cost a few rounds, not one per slot's worth.
      v_round := v_take;
      LOOP
        v_users := '{}';
        WHILE v_next <= coalesce(array_length(v_candidates, 1), 0) AND coalesce(array_length(v_users, 1), 0) < v_round LOOP
          IF pg_try_advisory_xact_lock(72310005, v_candidates[v_next]) THEN
            v_users := v_users || v_candidates[v_next];
          END IF;
          v_next := v_next + 1;
        END LOOP;
        IF coalesce(array_length(v_users, 1), 0) = 0 AND NOT v_waited AND coalesce(array_length(v_candidates, 1), 0) > 0
        THEN
          -- Every candidate is being claimed for by another claimer (one user's backlog, two processes): wait
          -- for the first one's claim to commit rather than sleep until the next wake-up. Holding no user lock
          -- yet, this wait cannot close a cycle.
          PERFORM pg_advisory_xact_lock(72310005, v_candidates[1]);
          v_users := ARRAY[v_candidates[1]];
        END IF;
        -- Once only, in the first round of the first pass: later, this claimer may hold user locks, and a wait
        -- could close a cycle with another claimer waiting on one of them.
        v_waited := true;
        EXIT WHEN coalesce(array_length(v_users, 1), 0) = 0;
        v_round := v_round * 2;
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
          -- The chains with limits this claimer holds (v_chains) and the limit in effect (the runtime setting,
          -- else the largest among its waiting executions: one index probe).
          held_chains as (
            select c.chain_name,
              coalesce((select s.max_concurrent from chain_settings s where s.chain_name = c.chain_name),
                       (select max(x.max_concurrent) from executions x
                        where x.chain_name = c.chain_name and x.status in ('ENQUEUED', 'SCHEDULED')
                          and (x.serialize or x.max_concurrent is not null or x.max_per_user is not null))) as max_concurrent
            from unnest(v_chains) c(chain_name)
          ),
          -- What the limited path reads is bounded at any depth: of a throttled chain, its next executions read
          -- before the rounds (v_throttled_next); of a chain limited per user only, each held user's next few.
          open_rows as (
            select id, chain_name, serialize_key, serialize, max_per_user, priority, max_concurrent,
              coalesce(user_id, 0) as user_key
            from executions where id = any(v_throttled_next)
            union all
            select x.* from held_chains c
            cross join unnest(v_users) w(user_key)
            cross join lateral (
              select id, chain_name, serialize_key, serialize, max_per_user, priority, max_concurrent,
                coalesce(user_id, 0) as user_key
              from executions
              where chain_name = c.chain_name and coalesce(user_id, 0) = w.user_key
                and status in ('ENQUEUED', 'SCHEDULED') and max_per_user is not null and not serialize
                and (status = 'ENQUEUED' or run_at <= now()) and not abort_requested
              order by priority desc nulls last, id
              limit v_take) x
            where c.max_concurrent is null
          ),
          -- Of a serialized chain, the first waiting execution of each key with none running (v_serial_heads).
          heads as (
            select id, chain_name, serialize_key, serialize, max_per_user, priority, max_concurrent,
              coalesce(user_id, 0) as user_key
            from executions where id = any(v_serial_heads)
          ),
          unblocked as (
            select u.id, u.chain_name, u.serialize_key, u.serialize, u.max_per_user, u.priority, u.user_key,
              coalesce((select s.max_concurrent from chain_settings s where s.chain_name = u.chain_name),
                       u.max_concurrent) as max_concurrent
            from (select * from open_rows union all select * from heads) u
          ),
          eligible as (
            select u.*,
              row_number() over (partition by u.chain_name order by u.priority desc, u.id) as chain_rank,
              row_number() over (partition by u.chain_name, u.user_key order by u.priority desc, u.id) as chain_user_rank
            from unblocked u
          ),
          limited as (
            select e.id, e.priority, e.user_key from eligible e
            where e.user_key = any(v_users)
              and (e.max_concurrent is null
                   or e.chain_rank + (select count(*) from running r where r.chain_name = e.chain_name)
                      <= e.max_concurrent)
              and (e.max_per_user is null
                   or e.chain_user_rank + (select count(*) from running r
                                           where r.chain_name = e.chain_name and r.user_key = e.user_key)
                      <= e.max_per_user)
          ),
          -- Each held user's next executions of chains without limits: the user's chains one index probe each
          -- (executions_user_ready_idx), the next few of each, the user's next few of all. A chain with a
          -- runtime setting is left to the limited path above without reading its executions here.
          -- (Each lookup below seeks to its user and chain in executions_user_ready_idx's own order, reads the
          -- next few entries and keeps those of the user and chain: only that index gives the order without a
          -- sort, which this function rules out. Named by equality, the order needed no user, and a plan made
          -- while the queue was near empty read executions_chain_ready_idx instead, passing over every other
          -- user's executions of the chain: 11,336 rows per claim with 4,000 waiting in per-user blocks, 112,136
          -- with 40,000. A seek by row comparison, not a range on the user alone: that would read on through
          -- the user's other chains.)
          user_chains (user_key, chain_name) as (
            select w.user_key,
              (select f.chain_name from (
                 select coalesce(x.user_id, 0) as user_key, x.chain_name from executions x
                 where x.status = 'ENQUEUED' and not x.serialize and x.max_concurrent is null
                   and x.max_per_user is null and coalesce(x.user_id, 0) >= w.user_key
                 order by coalesce(x.user_id, 0), x.chain_name limit 1) f
               where f.user_key = w.user_key)
            from unnest(v_users) w(user_key)
            union all
            select c.user_key,
              (select f.chain_name from (
                 select coalesce(x.user_id, 0) as user_key, x.chain_name from executions x
                 where x.status = 'ENQUEUED' and not x.serialize and x.max_concurrent is null
                   and x.max_per_user is null and (coalesce(x.user_id, 0), x.chain_name) > (c.user_key, c.chain_name)
                 order by coalesce(x.user_id, 0), x.chain_name limit 1) f
               where f.user_key = c.user_key)
            from user_chains c where c.chain_name is not null
          ),
          unlimited as (
            select y.id, y.priority, y.user_key from (
              select x.*, row_number() over (partition by x.user_key order by x.priority desc, x.id) as n
              from user_chains c
              cross join lateral (
                select f.id, f.priority, f.user_key from (
                  select id, priority, coalesce(user_id, 0) as user_key, chain_name from executions
                  where status = 'ENQUEUED' and not serialize and max_concurrent is null and max_per_user is null
                    and (coalesce(user_id, 0), chain_name) >= (c.user_key, c.chain_name) and not abort_requested
                  order by coalesce(user_id, 0), chain_name, priority desc nulls last, id
                  limit v_take) f
                where f.user_key = c.user_key and f.chain_name = c.chain_name) x
              where c.chain_name is not null and c.chain_name not in (select chain_name from chain_settings)) y
            where y.n <= v_take
          ),
          -- Scheduled runs whose time came: the longest-due thousand (an index range scan at any depth), then by
          -- priority among them.
          due as (
            select id, priority, user_key from (
              select id, priority, coalesce(user_id, 0) as user_key from executions
              where status = 'SCHEDULED' and run_at <= now() and coalesce(user_id, 0) = any(v_users)
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
          -- (the status compared as text: the plan stays on the primary key, not on a status index that was
          -- small when it was made)
          where e.id = any(array(select id from picked)) and e.status::text in ('ENQUEUED', 'SCHEDULED')
          returning e.id, e.chain_name as "chainName", coalesce(e.user_id, 0) as "userId",
            coalesce((select u.username from users u where u.id = e.user_id), 'system') as username,
            e.session_id as "sessionId", e.input, e.state, e.completed_through as "completedThrough", e.attempt,
            (e.serialize or e.max_concurrent is not null or e.max_per_user is not null
             or e.chain_name in (select chain_name from chain_settings)
             or coalesce(e.user_id, 0) in (select user_key from full_users)) as limited
          ),
          -- Each claimed execution takes one of the slots locked above.
          numbered as (
            select claimed.id, v_slots[row_number() over (order by claimed.id)] as slot from claimed
          ),
          slotted as (
            update execution_slots s set execution_id = n.id, assigned_at = clock_timestamp()
            from numbered n where s.slot = n.slot
          )
          select c.id, c."chainName", c."userId", c.username, c."sessionId", c.input, c.state, c."completedThrough",
            c.attempt, c.limited, n.slot, v_app, v_per_user, v_next_cursor, v_next_keys
          from claimed c join numbered n on n.id = c.id;
        IF FOUND THEN
          v_claimed := true;
          EXIT;
        END IF;
      END LOOP;
      EXIT WHEN v_claimed OR v_pass = 2 OR NOT v_truncated;
      v_pass := 2;
    END LOOP;
  END IF;
  IF NOT v_claimed THEN
    -- Nothing claimed: one row with the limits in effect only.
    RETURN QUERY SELECT NULL::int, NULL::text, NULL::int, NULL::text, NULL::text, NULL::jsonb, NULL::jsonb,
      NULL::int, NULL::int, NULL::boolean, NULL::int, v_app, v_per_user, v_next_cursor, v_next_keys;
  END IF;
END
$claim$;
