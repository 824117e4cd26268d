import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
} from "drizzle-orm/pg-core";
import { users } from "./users";

/** Status codes of a background execution, as in APEX_APPL_PAGE_BG_PROC_STATUS. */
export const executionStatuses = [
  "ENQUEUED",
  "SCHEDULED",
  "EXECUTING",
  "SUCCESS",
  "FAILED",
  "ABORTED",
] as const;
export const executionStatus = pgEnum("execution_status", executionStatuses);
export type ExecutionStatus = (typeof executionStatuses)[number];
/** Statuses an execution can still leave; the others are final. */
export const activeExecutionStatuses = [
  "ENQUEUED",
  "SCHEDULED",
  "EXECUTING",
] as const satisfies ExecutionStatus[];

const bytea = customType<{ data: Buffer; driverData: Buffer }>({
  dataType: () => "bytea",
});

const createdNow = sql`clock_timestamp()`;

/** One background run of an execution chain (the engine in lib/chains owns this table). */
export const executions = pgTable(
  "executions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    chainName: text("chain_name").notNull(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    sessionId: text("session_id").notNull(),
    parentId: integer("parent_id").references((): AnyPgColumn => executions.id, { onDelete: "cascade" }),
    status: executionStatus("status").notNull().default("ENQUEUED"),
    stepName: text("step_name"),
    stepSequence: integer("step_sequence"),
    statusMessage: text("status_message"),
    sofar: integer("sofar"),
    totalwork: integer("totalwork"),
    error: text("error"),
    input: jsonb("input").notNull(),
    state: jsonb("state"),
    /** Snapshot of the chain's settings at enqueue time, so the claim query can honour them in SQL. */
    serialize: boolean("serialize").notNull().default(false),
    maxConcurrent: integer("max_concurrent"),
    retryable: boolean("retryable").notNull().default(false),
    abortRequested: boolean("abort_requested").notNull().default(false),
    attempt: integer("attempt").notNull().default(0),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(createdNow),
    startedAt: timestamp("started_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().default(createdNow),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [
    index("executions_active_idx")
      .on(table.status, table.id)
      .where(sql`${table.status} in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')`),
    index("executions_user_idx").on(table.userId, table.createdAt),
    index("executions_parent_idx").on(table.parentId),
  ],
);

/** Uploaded files copied or moved into an execution; deleted with it. */
export const executionFiles = pgTable(
  "execution_files",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    executionId: integer("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    contentType: text("content_type").notNull(),
    size: integer("size").notNull(),
    content: bytea("content").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [index("execution_files_execution_idx").on(table.executionId)],
);

export type Execution = typeof executions.$inferSelect;
export type ExecutionFile = typeof executionFiles.$inferSelect;
