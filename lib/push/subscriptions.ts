import "server-only";
import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Executor, getDb } from "@/db/client";
import { pushSubscriptions, users } from "@/db/schema";
import { getEnv } from "@/lib/env";
import { hasControlCharacters } from "@/lib/text";
import { checkEndpoint, parseAllowList } from "./allow-list";
import { deviceLabel } from "./device-label";

const base64url = (bytes: number, label: string) =>
  z
    .string({ message: `${label} is missing.` })
    .regex(/^[A-Za-z0-9_-]+={0,2}$/, { message: `${label} must be base64url.` })
    .refine((value) => Buffer.from(value, "base64url").length === bytes, {
      message: `${label} must be ${bytes} bytes.`,
    });

/** A push endpoint as text: bounded, and without control characters (a NUL would fail in PostgreSQL). */
export const endpointSchema = z
  .string({ message: "The endpoint is missing." })
  .min(1, { message: "The endpoint is missing." })
  .max(2048, { message: "The endpoint is too long." })
  .refine((value) => !hasControlCharacters(value), { message: "The endpoint contains control characters." });

/** What a browser's PushSubscription.toJSON() gives, plus the previous endpoint on a key rotation. */
export const subscriptionInputSchema = z.object({
  endpoint: endpointSchema,
  expirationTime: z.number().nullable().optional(),
  keys: z.object(
    {
      p256dh: base64url(65, "The p256dh key").refine((value) => Buffer.from(value, "base64url")[0] === 4, {
        message: "The p256dh key must be an uncompressed P-256 point.",
      }),
      auth: base64url(16, "The auth secret"),
    },
    { message: "The subscription keys are missing." },
  ),
  oldEndpoint: endpointSchema.optional(),
});

export type SubscriptionInput = z.infer<typeof subscriptionInputSchema>;

export class SubscriptionRefused extends Error {
  constructor(
    message: string,
    readonly code: "endpoint_refused" | "endpoint_taken" = "endpoint_refused",
  ) {
    super(message);
  }
}

/** Devices one user may have; a new one beyond replaces their oldest (a cap on abuse, SPEC H8). */
export const MAX_DEVICES_PER_USER = 20;

/**
 * Stores (or moves to this user) a device's subscription. The endpoint must be on the push-service
 * allow-list: the server will POST to it, so anything else would be a request-forgery vector.
 */
export async function saveSubscription(
  {
    userId,
    input,
    userAgent,
    maxDevices = MAX_DEVICES_PER_USER,
  }: {
    userId: number;
    input: SubscriptionInput;
    userAgent: string;
    /** Load tests with one user's hundred devices raise it; the app never does. */
    maxDevices?: number;
  },
  db: Executor = getDb(),
) {
  const checked = checkEndpoint(input.endpoint, parseAllowList(getEnv().PUSH_ENDPOINT_ALLOWLIST));
  if (!checked.ok) throw new SubscriptionRefused(checked.reason);
  const agent = userAgent.slice(0, 512);
  const values = {
    userId,
    endpoint: input.endpoint,
    p256dh: input.keys.p256dh,
    auth: input.keys.auth,
    userAgent: agent,
    deviceLabel: deviceLabel(agent),
  };
  return db.transaction(async (tx) => {
    if (input.oldEndpoint && input.oldEndpoint !== input.endpoint) {
      await tx
        .delete(pushSubscriptions)
        .where(and(eq(pushSubscriptions.endpoint, input.oldEndpoint), eq(pushSubscriptions.userId, userId)));
    }
    // A known endpoint moves to this user only with the same keys: the same browser, signed in as
    // someone else, re-subscribes cleanly; somebody who merely learnt the endpoint cannot take it over.
    const [row] = await tx
      .insert(pushSubscriptions)
      .values(values)
      .onConflictDoUpdate({
        target: pushSubscriptions.endpoint,
        set: { ...values, lastError: null, lastFailureAt: null, createdAt: sql`now()` },
        setWhere: and(
          eq(pushSubscriptions.p256dh, input.keys.p256dh),
          eq(pushSubscriptions.auth, input.keys.auth),
        ),
      })
      .returning();
    if (!row) {
      throw new SubscriptionRefused(
        "This push endpoint is already registered with other keys. Turn notifications off and on again on this device.",
        "endpoint_taken",
      );
    }
    // Past the cap the oldest devices of this user go.
    await tx.execute(sql`delete from push_subscriptions where id in (
        select id from push_subscriptions where user_id = ${userId}
        order by created_at desc, id desc offset ${maxDevices})`);
    return row;
  });
}

export async function deleteSubscriptionByEndpoint(
  { userId, endpoint }: { userId: number; endpoint: string },
  db: Executor = getDb(),
): Promise<boolean> {
  const rows = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.endpoint, endpoint), eq(pushSubscriptions.userId, userId)))
    .returning({ id: pushSubscriptions.id });
  return rows.length > 0;
}

/** Removes one of the user's own devices; another user's id simply matches nothing. */
export async function deleteSubscriptionById(
  { userId, id }: { userId: number; id: number },
  db: Executor = getDb(),
): Promise<boolean> {
  const rows = await db
    .delete(pushSubscriptions)
    .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.userId, userId)))
    .returning({ id: pushSubscriptions.id });
  return rows.length > 0;
}

export function listSubscriptionsForUser({ userId }: { userId: number }, db: Executor = getDb()) {
  return db
    .select({
      id: pushSubscriptions.id,
      endpoint: pushSubscriptions.endpoint,
      deviceLabel: pushSubscriptions.deviceLabel,
      createdAt: pushSubscriptions.createdAt,
      lastSuccessAt: pushSubscriptions.lastSuccessAt,
      lastFailureAt: pushSubscriptions.lastFailureAt,
      lastError: pushSubscriptions.lastError,
    })
    .from(pushSubscriptions)
    .where(eq(pushSubscriptions.userId, userId))
    .orderBy(desc(pushSubscriptions.createdAt));
}

/** For administrators: every device, with the push-service host only (the endpoint is a capability). */
export async function listAllSubscriptions(db: Executor = getDb()) {
  const rows = await db
    .select({
      id: pushSubscriptions.id,
      username: users.username,
      deviceLabel: pushSubscriptions.deviceLabel,
      endpoint: pushSubscriptions.endpoint,
      createdAt: pushSubscriptions.createdAt,
      lastSuccessAt: pushSubscriptions.lastSuccessAt,
      lastFailureAt: pushSubscriptions.lastFailureAt,
      lastError: pushSubscriptions.lastError,
    })
    .from(pushSubscriptions)
    .innerJoin(users, eq(users.id, pushSubscriptions.userId))
    .orderBy(desc(pushSubscriptions.createdAt));
  return rows.map(({ endpoint, ...row }) => ({ ...row, endpointHost: new URL(endpoint).host }));
}
