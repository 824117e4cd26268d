ALTER TABLE "push_messages" DROP CONSTRAINT "push_messages_payload_id_push_payloads_id_fk";
--> statement-breakpoint
DROP INDEX "push_messages_created_idx";--> statement-breakpoint
-- Whether a real notification is already due: the enqueue wakes the sender only when nothing is. PL/pgSQL
-- keeps the plan per connection, made without sequential scans, so it reads push_messages_due_idx even when
-- it was planned while push_messages was small (else it read every sent message until the next analyze).
-- STABLE matters: called from the enqueue statement, it sees that statement's snapshot, without the rows
-- the statement is inserting (VOLATILE would see them, and the sender would never be woken).
CREATE OR REPLACE FUNCTION push_messages_due_exist() RETURNS boolean
LANGUAGE plpgsql STABLE
SET enable_seqscan = off
AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM push_messages
    WHERE status = 'queued' AND subscription_id IS NOT NULL AND priority = 'normal'
      AND next_attempt_at <= now());
END
$$;
