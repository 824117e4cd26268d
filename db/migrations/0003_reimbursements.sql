CREATE TYPE "public"."reimbursement_status" AS ENUM('REVIEWING', 'APPROVED', 'REJECTED');--> statement-breakpoint
CREATE TYPE "public"."task_priority" AS ENUM('LOW', 'MEDIUM', 'HIGH');--> statement-breakpoint
CREATE TYPE "public"."task_state" AS ENUM('ASSIGNED', 'COMPLETED');--> statement-breakpoint
CREATE TABLE "approval_tasks" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "approval_tasks_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"reimbursement_id" integer NOT NULL,
	"subject" text NOT NULL,
	"priority" "task_priority" DEFAULT 'MEDIUM' NOT NULL,
	"state" "task_state" DEFAULT 'ASSIGNED' NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"initiated_by_id" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "approval_tasks_reimbursement_id_unique" UNIQUE("reimbursement_id")
);
--> statement-breakpoint
CREATE TABLE "reimbursements" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "reimbursements_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"amount_cents" integer NOT NULL,
	"receipt_from" text NOT NULL,
	"status" "reimbursement_status" DEFAULT 'REVIEWING' NOT NULL,
	"client_token" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_by_id" integer,
	"decided_on" timestamp with time zone,
	CONSTRAINT "reimbursements_client_token_unique" UNIQUE("user_id","client_token"),
	CONSTRAINT "reimbursements_amount_positive" CHECK ("reimbursements"."amount_cents" > 0)
);
--> statement-breakpoint
ALTER TABLE "approval_tasks" ADD CONSTRAINT "approval_tasks_reimbursement_id_reimbursements_id_fk" FOREIGN KEY ("reimbursement_id") REFERENCES "public"."reimbursements"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "approval_tasks" ADD CONSTRAINT "approval_tasks_initiated_by_id_users_id_fk" FOREIGN KEY ("initiated_by_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reimbursements" ADD CONSTRAINT "reimbursements_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reimbursements" ADD CONSTRAINT "reimbursements_decided_by_id_users_id_fk" FOREIGN KEY ("decided_by_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approval_tasks_open_due_idx" ON "approval_tasks" USING btree ("due_at") WHERE "approval_tasks"."state" = 'ASSIGNED';--> statement-breakpoint
CREATE INDEX "reimbursements_user_created_idx" ON "reimbursements" USING btree ("user_id","created_at");