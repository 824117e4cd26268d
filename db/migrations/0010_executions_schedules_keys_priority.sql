CREATE TABLE "execution_schedules" (
	"name" text PRIMARY KEY NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"chain_name" text NOT NULL,
	"title" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"last_slot" timestamp with time zone,
	"last_execution_id" integer
);
--> statement-breakpoint
ALTER TABLE "executions" ALTER COLUMN "user_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "key" text;--> statement-breakpoint
ALTER TABLE "executions" ADD COLUMN "priority" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "execution_schedules" ADD CONSTRAINT "execution_schedules_last_execution_id_executions_id_fk" FOREIGN KEY ("last_execution_id") REFERENCES "public"."executions"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "executions_active_key_idx" ON "executions" USING btree ("chain_name","key") WHERE "executions"."key" is not null and "executions"."status" in ('ENQUEUED', 'SCHEDULED', 'EXECUTING');--> statement-breakpoint
CREATE INDEX "executions_ready_idx" ON "executions" USING btree ("priority" DESC NULLS LAST,"id") WHERE "executions"."status" = 'ENQUEUED';