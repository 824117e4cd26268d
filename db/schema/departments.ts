import { integer, pgTable, text } from "drizzle-orm/pg-core";

export const departments = pgTable("departments", {
  deptno: integer("deptno").primaryKey(),
  dname: text("dname").notNull(),
  loc: text("loc").notNull(),
});

export type Department = typeof departments.$inferSelect;
