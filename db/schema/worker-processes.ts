import { integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";

/** Live worker hosts (the web server's in-process one and each `npm run worker`), kept by heartbeat. */
export const workerProcesses = pgTable("worker_processes", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["web", "worker"] }).notNull(),
  hostname: text("hostname").notNull(),
  pid: integer("pid").notNull(),
  consumers: text("consumers").array().notNull().default([]),
  startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
  heartbeatAt: timestamp("heartbeat_at", { withTimezone: true }).notNull().defaultNow(),
});

export type WorkerProcess = typeof workerProcesses.$inferSelect;
