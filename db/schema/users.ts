import { sql } from "drizzle-orm";
import { check, integer, jsonb, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";

export const userRoles = ["employee", "approver", "admin"] as const;
export const userRole = pgEnum("user_role", userRoles);

/** Per-user preferences (for example the "Hide Process Button" toggle of the departments demo). */
export type UserPreferences = { hideProcessButton?: boolean };

export const users = pgTable(
  "users",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    username: text("username").notNull().unique(),
    displayName: text("display_name").notNull(),
    role: userRole("role").notNull().default("employee"),
    passwordHash: text("password_hash").notNull(),
    preferences: jsonb("preferences").$type<UserPreferences>().notNull().default({}),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check("users_username_lowercase", sql`${table.username} = lower(${table.username})`)],
);

export type User = typeof users.$inferSelect;
export type UserRole = (typeof userRoles)[number];
