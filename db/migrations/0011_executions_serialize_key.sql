ALTER TABLE "executions" ADD COLUMN "serialize_key" text;--> statement-breakpoint
UPDATE "executions" SET "serialize_key" = 'session:' || "session_id" WHERE "serialize" AND "serialize_key" IS NULL;
