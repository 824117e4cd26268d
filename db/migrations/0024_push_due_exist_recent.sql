-- Whether the sender was already woken for waiting messages (the enqueue sends NOTIFY only when not): is a
-- normal-priority message that became due in the last second still queued? Read from the newest end of
-- push_messages_due_idx, backwards.
--
-- 0019 read it from the oldest end: past the index entries of every message claimed since the table was
-- last vacuumed (a claimed row leaves this partial index, but its entry stays until VACUUM). During a
-- 100,000-device fan-out that was ~500 index pages per enqueue statement by the end, 0.8 ms each, a third of
-- the database's time per message (bench, pg_stat_statements). The claim takes the oldest first, so where
-- messages wait, the newest queued entries are live and the first one read answers; where none waits, the
-- scan stops a second back instead of reading every claimed entry.
--
-- An older due message that is still queued no longer holds the NOTIFY back: a sender woken for it more than
-- a second ago has not claimed it, so waking the senders again is what it needs.
-- STABLE, as in 0019: it sees the enqueue statement's snapshot, not the rows that statement inserts.
CREATE OR REPLACE FUNCTION push_messages_due_exist() RETURNS boolean
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM (
      SELECT 1 FROM push_messages
      WHERE status = 'queued' AND subscription_id IS NOT NULL AND priority = 'normal'
        AND next_attempt_at <= now() AND next_attempt_at > now() - interval '1 second'
      ORDER BY priority DESC, next_attempt_at DESC, id DESC
      LIMIT 1) newest);
END
$$;
