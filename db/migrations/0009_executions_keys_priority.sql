ALTER TABLE "executions" ADD COLUMN "key" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "executions_active_key_idx" ON "executions" USING btree ("chain_name","key") WHERE "executions"."key" is not null and "executions"."status" in ('ENQUEUED', 'SCHEDULED', 'EXECUTING');--> statement-breakpoint
CREATE INDEX "executions_ready_idx" ON "executions" USING btree ("priority" DESC NULLS LAST,"id") WHERE "executions"."status" = 'ENQUEUED';