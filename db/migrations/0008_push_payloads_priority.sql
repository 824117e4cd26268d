CREATE TYPE "public"."push_priority" AS ENUM('normal', 'low');--> statement-breakpoint
CREATE TABLE "push_payloads" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "push_payloads_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"title" text NOT NULL,
	"body" text NOT NULL,
	"target_url" text NOT NULL,
	"icon_url" text,
	"payload" jsonb NOT NULL,
	"urgency" text DEFAULT 'normal' NOT NULL,
	"ttl_seconds" integer DEFAULT 86400 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
DROP INDEX "push_messages_due_idx";--> statement-breakpoint
DROP INDEX "push_messages_lease_idx";--> statement-breakpoint
ALTER TABLE "push_messages" ADD COLUMN "payload_id" integer;--> statement-breakpoint
-- Hand-written: queued messages keep their content (one payload each), then payload_id becomes required.
ALTER TABLE "push_payloads" ADD COLUMN "migrated_message_id" integer;--> statement-breakpoint
INSERT INTO "push_payloads" ("title", "body", "target_url", "icon_url", "payload", "urgency", "ttl_seconds", "created_at", "migrated_message_id")
	SELECT "title", "body", "target_url", "icon_url", "payload", "urgency", "ttl_seconds", "created_at", "id" FROM "push_messages";--> statement-breakpoint
UPDATE "push_messages" m SET "payload_id" = p."id" FROM "push_payloads" p WHERE p."migrated_message_id" = m."id";--> statement-breakpoint
ALTER TABLE "push_payloads" DROP COLUMN "migrated_message_id";--> statement-breakpoint
ALTER TABLE "push_messages" ALTER COLUMN "payload_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "push_messages" ADD COLUMN "priority" "push_priority" DEFAULT 'normal' NOT NULL;--> statement-breakpoint
ALTER TABLE "push_messages" ADD CONSTRAINT "push_messages_payload_id_push_payloads_id_fk" FOREIGN KEY ("payload_id") REFERENCES "public"."push_payloads"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "push_messages_payload_idx" ON "push_messages" USING btree ("payload_id");--> statement-breakpoint
CREATE INDEX "push_messages_sent_idx" ON "push_messages" USING btree ("sent_at") WHERE "push_messages"."status" = 'sent';--> statement-breakpoint
CREATE INDEX "push_messages_due_idx" ON "push_messages" USING btree ("priority","next_attempt_at","id") WHERE "push_messages"."status" = 'queued' and "push_messages"."subscription_id" is not null;--> statement-breakpoint
CREATE INDEX "push_messages_lease_idx" ON "push_messages" USING btree ("lease_expires_at") WHERE "push_messages"."status" = 'sending' and "push_messages"."subscription_id" is not null;--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "title";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "body";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "target_url";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "icon_url";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "payload";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "urgency";--> statement-breakpoint
ALTER TABLE "push_messages" DROP COLUMN "ttl_seconds";