import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
// The status names are defined once, in the engine (client-safe module); the enum mirrors them.
// A relative path: drizzle-kit loads this file without the "@/" alias.
import { activeExecutionStatuses, type ExecutionStatus, executionStatuses } from "../../lib/chains/statuses";
import { users } from "./users";

export { activeExecutionStatuses, type ExecutionStatus, executionStatuses };
export const executionStatus = pgEnum("execution_status", executionStatuses);

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
    /** The chain's human title for this input ("Process department 20"), made at enqueue time. */
    title: text("title").notNull().default(""),
    /** Null for system executions (started by a schedule, not by a person). */
    userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
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
    /**
     * With serialize: the scope (per chain) whose executions run one at a time — `session:<id>`, `chain` or
     * `key:<key>`.
     */
    serializeKey: text("serialize_key"),
    maxConcurrent: integer("max_concurrent"),
    /** The chain's maxConcurrentPerUser: running executions of this chain per user at once. */
    maxPerUser: integer("max_per_user"),
    /** Deduplication key: one waiting or running execution per chain and key. */
    key: text("key"),
    /** Higher runs first among eligible executions. */
    priority: integer("priority").notNull().default(0),
    /** Attempts in all (the chain's retry.maxAttempts, 3 for `retryable`, else 1). */
    maxAttempts: integer("max_attempts").notNull().default(1),
    /** SCHEDULED executions run from this time on (a retry's backoff, a delayed run). */
    runAt: timestamp("run_at", { withTimezone: true }),
    /** Leaf steps up to this sequence completed; `state` is what they left (a rerun resumes after them). */
    completedThrough: integer("completed_through").notNull().default(0),
    /** One entry per failed attempt: { attempt, step, error, at }. */
    attemptLog: jsonb("attempt_log").notNull().default(sql`'[]'::jsonb`),
    abortRequested: boolean("abort_requested").notNull().default(false),
    /** A running parent waiting in ctx.runChild: it holds no slot meanwhile (not counted by any limit). */
    awaitingChild: boolean("awaiting_child").notNull().default(false),
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
    uniqueIndex("executions_active_key_idx")
      .on(table.chainName, table.key)
      .where(sql`${table.key} is not null and ${table.status} in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')`),
    // The claim's reads of chains with limits, bounded at any depth (claim_executions, migrations 0018, 0020):
    // a throttled chain's next waiting executions in its order (as many as it has room for), ...
    index("executions_chain_ready_idx")
      .on(table.chainName, table.priority.desc(), table.id)
      .where(sql`${table.status} in ('ENQUEUED', 'SCHEDULED') and not ${table.serialize}`),
    // ... a serialized chain's first waiting execution per key (one probe per key, not per execution), ...
    index("executions_serialized_idx")
      .on(table.chainName, table.serializeKey, table.id)
      .where(sql`${table.status} in ('ENQUEUED', 'SCHEDULED') and ${table.serialize}`),
    // ... and, in a chain limited per user only, each user's next few.
    index("executions_chain_user_ready_idx")
      .on(table.chainName, sql`coalesce(${table.userId}, 0)`, table.priority.desc(), table.id)
      .where(
        sql`${table.status} in ('ENQUEUED', 'SCHEDULED') and ${table.maxPerUser} is not null and not ${table.serialize}`,
      ),
    // Which chains with limits have waiting work (one probe per chain), and the largest maxConcurrent among
    // a chain's waiting executions (one more).
    index("executions_limited_waiting_idx")
      .on(table.chainName, table.maxConcurrent)
      .where(
        sql`${table.status} in ('ENQUEUED', 'SCHEDULED') and (${table.serialize} or ${table.maxConcurrent} is not null or ${table.maxPerUser} is not null)`,
      ),
    // Fair claiming: when each user last had an execution started (max() reads one index entry).
    index("executions_user_started_idx")
      .on(sql`coalesce(${table.userId}, 0)`, table.startedAt)
      .where(sql`${table.startedAt} is not null`),
    index("executions_scheduled_idx").on(table.runAt).where(sql`${table.status} = 'SCHEDULED'`),
    index("executions_parent_idx").on(table.parentId),
    // Fair claiming: the distinct users with waiting work (a probe per user in each of the two indexes),
    // and each one's next executions of chains without limits, chain by chain (a probe per chain of the
    // user), so that work held by a chain's limit or by a runtime setting is never read past.
    index("executions_user_ready_idx")
      .on(sql`coalesce(${table.userId}, 0)`, table.chainName, table.priority.desc(), table.id)
      .where(
        sql`${table.status} = 'ENQUEUED' and not ${table.serialize} and ${table.maxConcurrent} is null and ${table.maxPerUser} is null`,
      ),
    index("executions_limited_user_idx")
      .on(sql`coalesce(${table.userId}, 0)`)
      .where(
        sql`${table.status} = 'ENQUEUED' and (${table.serialize} or ${table.maxConcurrent} is not null or ${table.maxPerUser} is not null)`,
      ),
  ],
);

/**
 * The application-wide limit as rows: one per running execution (slot ≤ the limit), taken by the claim with
 * FOR UPDATE SKIP LOCKED, so claimers in several processes take different free slots at once instead of
 * queueing on one lock. Freed in the statement that ends the execution. No foreign key: deleting
 * executions (or truncating them) must not remove slots; a slot whose execution is gone is freed by the
 * workers' periodic sweep.
 */
export const executionSlots = pgTable(
  "execution_slots",
  {
    slot: integer("slot").primaryKey(),
    executionId: integer("execution_id"),
    assignedAt: timestamp("assigned_at", { withTimezone: true }),
  },
  // No index but the key: taking and freeing a slot then changes no indexed column (HOT updates).
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

/**
 * Live status streams watching an execution (one row per open stream, refreshed while it is open): status
 * writes NOTIFY only executions somebody watches, so unwatched work pays nothing for the live pages.
 */
export const executionWatchers = pgTable(
  "execution_watchers",
  {
    executionId: integer("execution_id")
      .notNull()
      .references(() => executions.id, { onDelete: "cascade" }),
    watcherId: text("watcher_id").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.executionId, table.watcherId] })],
);

/** Cron schedules declared in code (defineSchedule): the last slot taken, so each slot fires once. */
export const executionSchedules = pgTable("execution_schedules", {
  name: text("name").primaryKey(),
  cron: text("cron").notNull(),
  timezone: text("timezone").notNull(),
  chainName: text("chain_name").notNull(),
  title: text("title").notNull(),
  /** First seen: slots before it were never missed, so they are not caught up. */
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().default(createdNow),
  lastSlot: timestamp("last_slot", { withTimezone: true }),
  lastExecutionId: integer("last_execution_id").references((): AnyPgColumn => executions.id, {
    onDelete: "set null",
  }),
});

/**
 * Runtime limits an administrator set on /admin/executions (absent: the env or chain default). Every worker
 * process reads them at each claim. scope "app": application-wide; "user": per user; "chain": per chain
 * (chain_name). 0 holds everything in that scope.
 */
export const executionSettings = pgTable(
  "execution_settings",
  {
    scope: text("scope", { enum: ["app", "user", "chain"] }).notNull(),
    chainName: text("chain_name").notNull().default(""),
    maxConcurrent: integer("max_concurrent").notNull(),
    updatedBy: text("updated_by"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().default(createdNow),
  },
  (table) => [
    primaryKey({ columns: [table.scope, table.chainName] }),
    check("execution_settings_max_check", sql`${table.maxConcurrent} >= 0`),
  ],
);

export type Execution = typeof executions.$inferSelect;
export type ExecutionFile = typeof executionFiles.$inferSelect;
