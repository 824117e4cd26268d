import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { executions } from "./executions";
import { users } from "./users";

export const departments = pgTable("departments", {
  deptno: integer("deptno").primaryKey(),
  dname: text("dname").notNull(),
  loc: text("loc").notNull(),
});

/**
 * Who is processing which department: one row per department (the primary key), so of two users racing
 * to process the same one, exactly one registers. Removed when the processing ends, fails or is aborted;
 * a row whose execution has finished anyway (its worker died) counts as free.
 */
export const departmentProcessing = pgTable("department_processing", {
  deptno: integer("deptno")
    .primaryKey()
    .references(() => departments.deptno, { onDelete: "cascade" }),
  userId: integer("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  executionId: integer("execution_id").references(() => executions.id, { onDelete: "cascade" }),
  registeredAt: timestamp("registered_at", { withTimezone: true }).notNull().defaultNow(),
});

export type Department = typeof departments.$inferSelect;
export type DepartmentProcessing = typeof departmentProcessing.$inferSelect;
