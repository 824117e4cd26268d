import { bigint, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { executions } from "./executions";
import { users } from "./users";

/** One uploaded file loaded by the "Load Data Background" chain. */
export const dataLoads = pgTable(
  "data_loads",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    /** Null once the execution was purged; the counts below stay. */
    executionId: integer("execution_id")
      .unique()
      .references(() => executions.id, { onDelete: "set null" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fileName: text("file_name").notNull(),
    fileSize: integer("file_size").notNull(),
    rowsLoaded: integer("rows_loaded").notNull().default(0),
    rowsRejected: integer("rows_rejected").notNull().default(0),
    /** Why the whole file could not be loaded (wrong columns, broken ZIP, …). */
    error: text("error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (table) => [index("data_loads_user_idx").on(table.userId, table.id)],
);

/** A row of an uploaded file that was not loaded, with the reason: reported, never silently dropped. */
export const dataLoadRejects = pgTable(
  "data_load_rejects",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    loadId: integer("load_id")
      .notNull()
      .references(() => dataLoads.id, { onDelete: "cascade" }),
    /** Line of the CSV file (the header is line 1). */
    line: integer("line").notNull(),
    reason: text("reason").notNull(),
    raw: text("raw").notNull(),
  },
  (table) => [index("data_load_rejects_load_idx").on(table.loadId, table.line)],
);

/** Sales rows loaded from uploaded files. Money in integer cents. */
export const sales = pgTable(
  "sales",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    loadId: integer("load_id")
      .notNull()
      .references(() => dataLoads.id, { onDelete: "cascade" }),
    region: text("region").notNull(),
    country: text("country").notNull(),
    itemType: text("item_type").notNull(),
    salesChannel: text("sales_channel").notNull(),
    orderPriority: text("order_priority").notNull(),
    unitsSold: integer("units_sold").notNull(),
    unitPriceCents: bigint("unit_price_cents", { mode: "number" }).notNull(),
    unitCostCents: bigint("unit_cost_cents", { mode: "number" }).notNull(),
    totalProfitCents: bigint("total_profit_cents", { mode: "number" }).notNull(),
  },
  (table) => [index("sales_load_idx").on(table.loadId)],
);

export type DataLoad = typeof dataLoads.$inferSelect;
export type Sale = typeof sales.$inferSelect;
