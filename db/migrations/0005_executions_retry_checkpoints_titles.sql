ALTER TABLE "executions" ADD COLUMN "title" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "max_attempts" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "run_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "completed_through" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "attempt_log" jsonb DEFAULT '[]'::jsonb NOT NULL;--> statement-breakpoint
-- Hand-added: existing rows keep what they meant (retryable = 3 attempts; the code id as the title).
UPDATE "executions" SET "max_attempts" = 3 WHERE "retryable";--> statement-breakpoint
UPDATE "executions" SET "title" = "chain_name" WHERE "title" = '';
