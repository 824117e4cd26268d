import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp } from "drizzle-orm/pg-core";
import { users } from "./users";

/** The VAPID key pair: one row, private key encrypted with a key derived from the app secret. */
export const pushCredentials = pgTable(
  "push_credentials",
  {
    id: integer("id").primaryKey().default(1),
    publicKey: text("public_key").notNull(),
    privateKeyEncrypted: text("private_key_encrypted").notNull(),
    version: integer("version").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [check("push_credentials_single_row", sql`${table.id} = 1`)],
);

/** One row per device (browser profile) that opted in. */
export const pushSubscriptions = pgTable(
  "push_subscriptions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    endpoint: text("endpoint").notNull().unique(),
    p256dh: text("p256dh").notNull(),
    auth: text("auth").notNull(),
    userAgent: text("user_agent").notNull().default(""),
    deviceLabel: text("device_label").notNull().default("Unknown device"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    lastSuccessAt: timestamp("last_success_at", { withTimezone: true }),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
    lastError: text("last_error"),
  },
  (table) => [index("push_subscriptions_user_idx").on(table.userId)],
);

export const pushMessageStatuses = ["queued", "sending", "sent", "failed"] as const;
export const pushMessageStatus = pgEnum("push_message_status", pushMessageStatuses);

/** How soon a message goes out: real notifications are claimed before low-priority ones (test sends). */
export const pushPriorities = ["normal", "low"] as const;
export const pushPriority = pgEnum("push_priority", pushPriorities);

/**
 * One notification's content, stored once however many devices receive it (a broadcast to 10,000 devices
 * is one row here and 10,000 small queue rows).
 */
export const pushPayloads = pgTable(
  "push_payloads",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    targetUrl: text("target_url").notNull(),
    iconUrl: text("icon_url"),
    /** The exact JSON the service worker receives (encrypted per message at send time). */
    payload: jsonb("payload").notNull(),
    urgency: text("urgency", { enum: ["very-low", "low", "normal", "high"] })
      .notNull()
      .default("normal"),
    ttlSeconds: integer("ttl_seconds").notNull().default(86_400),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  // The purge reads the old ones only (without it, every content ever stored, every minute).
  (table) => [index("push_payloads_created_idx").on(table.createdAt)],
);

/** The push queue: one row per notification per device, pointing at the shared payload. */
export const pushMessages = pgTable(
  "push_messages",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    // No foreign keys on user_id and subscription_id (migration 0022): what their ON DELETE did, triggers on
    // users and push_subscriptions do (the user's rows go; a removed device's rows lose it and fail). Their
    // check cost every queued row a KEY SHARE lock, i.e. a write, on its user's and its device's rows (a third
    // of the enqueue's time in PostgreSQL, bench). A queued row whose device went between the enqueue's read and
    // its commit is claimed and fails as a removed device's (claimDueMessages); one handed straight to this
    // process's sender is sent, as it could be before.
    userId: integer("user_id").notNull(),
    subscriptionId: integer("subscription_id"),
    // No foreign key: a payload is written in the same statement as its queue rows and removed only by the
    // sender's purge once no row points at it. Its per-row check was the one read of push_payloads on the
    // enqueue path, planned as a sequential scan while the table was small (tests/push-enqueue-plans.test.ts).
    payloadId: integer("payload_id").notNull(),
    priority: pushPriority("priority").notNull().default("normal"),
    status: pushMessageStatus("status").notNull().default("queued"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: timestamp("lease_expires_at", { withTimezone: true }),
    lastError: text("last_error"),
    lastStatusCode: integer("last_status_code"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    sentAt: timestamp("sent_at", { withTimezone: true }),
  },
  (table) => [
    // The claim reads each of these in index order, one branch per index (bench: depth part).
    index("push_messages_due_idx")
      .on(table.priority, table.nextAttemptAt, table.id)
      .where(sql`${table.status} = 'queued' and ${table.subscriptionId} is not null`),
    index("push_messages_lease_idx")
      .on(table.leaseExpiresAt)
      .where(sql`${table.status} = 'sending' and ${table.subscriptionId} is not null`),
    index("push_messages_payload_idx").on(table.payloadId),
    index("push_messages_sent_idx").on(table.sentAt).where(sql`${table.status} = 'sent'`),
    // Removing a device sets its rows' subscription_id to null (the foreign key's action): without this
    // index that is a sequential scan of the whole queue per device (47 ms at 1,000,000 rows).
    index("push_messages_subscription_idx").on(table.subscriptionId),
    // The rows of removed devices still to fail (the sender's sweep, every poll): normally none.
    index("push_messages_orphaned_idx")
      .on(table.id)
      .where(sql`${table.subscriptionId} is null and ${table.status} in ('queued', 'sending')`),
  ],
);

export type PushSubscription = typeof pushSubscriptions.$inferSelect;
export type PushMessage = typeof pushMessages.$inferSelect;
export type PushPayload = typeof pushPayloads.$inferSelect;
export type PushPriority = (typeof pushPriorities)[number];
export type PushMessageStatus = (typeof pushMessageStatuses)[number];
