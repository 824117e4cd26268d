CREATE TABLE "execution_slots" (
	"slot" integer PRIMARY KEY NOT NULL,
	"execution_id" integer,
	"assigned_at" timestamp with time zone
);
--> statement-breakpoint
DROP INDEX "executions_ready_idx";--> statement-breakpoint
CREATE INDEX "executions_waiting_chain_idx" ON "executions" USING btree ("chain_name") WHERE "executions"."status" in ('ENQUEUED', 'SCHEDULED');--> statement-breakpoint
CREATE INDEX "executions_limited_waiting_idx" ON "executions" USING btree ("chain_name") WHERE "executions"."status" in ('ENQUEUED', 'SCHEDULED') and ("executions"."serialize" or "executions"."max_concurrent" is not null or "executions"."max_per_user" is not null);--> statement-breakpoint
CREATE INDEX "executions_user_started_idx" ON "executions" USING btree (coalesce("user_id", 0),"started_at") WHERE "executions"."started_at" is not null;--> statement-breakpoint
CREATE INDEX "executions_scheduled_idx" ON "executions" USING btree ("run_at") WHERE "executions"."status" = 'SCHEDULED';