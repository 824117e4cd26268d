ALTER TABLE "push_messages" DROP CONSTRAINT "push_messages_user_id_users_id_fk";
--> statement-breakpoint
ALTER TABLE "push_messages" DROP CONSTRAINT "push_messages_subscription_id_push_subscriptions_id_fk";
--> statement-breakpoint
-- What the two foreign keys did on delete, without their check at every queued row (a KEY SHARE lock, i.e. a
-- write, on the row's user and device: a third of the enqueue's time in PostgreSQL). Row-level, as the
-- foreign keys' own triggers were. A row whose device goes between the enqueue's read and its commit keeps a
-- subscription_id no device has: the claim fails it as a removed device's (lib/push/sender.ts).
-- enable_seqscan off: the plan is kept per connection, and one made while push_messages was small would
-- otherwise read the whole queue at every removal (see push_messages_due_exist, migration 0019).
CREATE FUNCTION push_messages_device_removed() RETURNS trigger
LANGUAGE plpgsql
SET enable_seqscan = off
AS $$
BEGIN
  UPDATE push_messages SET subscription_id = NULL WHERE subscription_id = OLD.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER push_messages_device_removed AFTER DELETE ON push_subscriptions
  FOR EACH ROW EXECUTE FUNCTION push_messages_device_removed();
--> statement-breakpoint
-- A removed user's queue rows go with them (push_messages.user_id has no index: this reads the queue, as the
-- foreign key's cascade did; the app removes no users).
CREATE FUNCTION push_messages_user_removed() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  DELETE FROM push_messages WHERE user_id = OLD.id;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER push_messages_user_removed AFTER DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION push_messages_user_removed();
