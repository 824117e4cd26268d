CREATE TYPE "public"."execution_status" AS ENUM('ENQUEUED', 'SCHEDULED', 'EXECUTING', 'SUCCESS', 'FAILED', 'ABORTED');--> statement-breakpoint
CREATE TABLE "execution_files" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "execution_files_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"execution_id" integer NOT NULL,
	"name" text NOT NULL,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"content" "bytea" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "executions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "executions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"chain_name" text NOT NULL,
	"user_id" integer NOT NULL,
	"session_id" text NOT NULL,
	"parent_id" integer,
	"status" "execution_status" DEFAULT 'ENQUEUED' NOT NULL,
	"step_name" text,
	"step_sequence" integer,
	"status_message" text,
	"sofar" integer,
	"totalwork" integer,
	"error" text,
	"input" jsonb NOT NULL,
	"state" jsonb,
	"serialize" boolean DEFAULT false NOT NULL,
	"max_concurrent" integer,
	"retryable" boolean DEFAULT false NOT NULL,
	"abort_requested" boolean DEFAULT false NOT NULL,
	"attempt" integer DEFAULT 0 NOT NULL,
	"lease_owner" text,
	"lease_expires_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"started_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"finished_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "execution_files" ADD CONSTRAINT "execution_files_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_parent_id_executions_id_fk" FOREIGN KEY ("parent_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "execution_files_execution_idx" ON "execution_files" USING btree ("execution_id");--> statement-breakpoint
CREATE INDEX "executions_active_idx" ON "executions" USING btree ("status","id") WHERE "executions"."status" in ('ENQUEUED', 'SCHEDULED', 'EXECUTING');--> statement-breakpoint
CREATE INDEX "executions_user_idx" ON "executions" USING btree ("user_id","created_at");--> statement-breakpoint
CREATE INDEX "executions_parent_idx" ON "executions" USING btree ("parent_id");