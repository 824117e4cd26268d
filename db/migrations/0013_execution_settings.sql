CREATE TABLE "execution_settings" (
	"scope" text NOT NULL,
	"chain_name" text DEFAULT '' NOT NULL,
	"max_concurrent" integer NOT NULL,
	"updated_by" text,
	"updated_at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	CONSTRAINT "execution_settings_scope_chain_name_pk" PRIMARY KEY("scope","chain_name"),
	CONSTRAINT "execution_settings_max_check" CHECK ("execution_settings"."max_concurrent" >= 0)
);
