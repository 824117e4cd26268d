import { boolean, index, integer, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./users";

/**
 * One row per sign-in. The session cookie (a signed JWT) names its row, and every request checks that the
 * row is still there, not revoked and not expired: signing out, "Sign out of all devices", an
 * administrator or a password change ends a session on the server, whatever cookie a browser still holds.
 */
export const userSessions = pgTable(
  "user_sessions",
  {
    id: text("id").primaryKey(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** "Remember me": a persistent cookie for SESSION_MAX_AGE_DAYS; otherwise a browser-session cookie. */
    remember: boolean("remember").notNull(),
    userAgent: text("user_agent").notNull().default(""),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    revokedAt: timestamp("revoked_at", { withTimezone: true }),
  },
  (table) => [index("user_sessions_user_idx").on(table.userId)],
);

/** Counters of rate-limiter-flexible's RateLimiterDrizzle (sign-in throttling, test-send limits). */
export const rateLimits = pgTable("rate_limits", {
  key: text("key").primaryKey(),
  points: integer("points").notNull().default(0),
  expire: timestamp("expire", { withTimezone: true }),
});

export type UserSession = typeof userSessions.$inferSelect;
