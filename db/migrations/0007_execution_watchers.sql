CREATE TABLE "execution_watchers" (
	"execution_id" integer NOT NULL,
	"watcher_id" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "execution_watchers_execution_id_watcher_id_pk" PRIMARY KEY("execution_id","watcher_id")
);
--> statement-breakpoint
ALTER TABLE "execution_watchers" ADD CONSTRAINT "execution_watchers_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "public"."executions"("id") ON DELETE cascade ON UPDATE no action;