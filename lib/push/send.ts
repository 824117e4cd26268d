import "server-only";
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { z } from "zod";
import { type Executor, getDb, notify } from "@/db/client";
import { pushMessages, pushSubscriptions, users } from "@/db/schema";
import { getEnv } from "@/lib/env";
import { buildPayload, type NotificationInput, notificationInputSchema } from "./payload";

export const PUSH_CHANNEL = "push_messages";

/** Bad input to sendPushNotification: a message for people, and the fields at fault. */
export class PushInputError extends Error {
  constructor(
    message: string,
    readonly fieldErrors: Record<string, string[] | undefined> = {},
  ) {
    super(message);
    this.name = "PushInputError";
  }
}

/**
 * Notifies a user on every device they enabled. Enqueues one row per device and returns at once; the
 * sender delivers in the background as soon as the caller's transaction commits (pass `tx` so that a
 * rolled-back decision sends nothing).
 */
export async function sendPushNotification(
  input: NotificationInput,
  db: Executor = getDb(),
): Promise<{ queued: number; messageIds: number[] }> {
  const parsed = notificationInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new PushInputError("The notification is not valid.", z.flattenError(parsed.error).fieldErrors);
  }
  const built = buildPayload(parsed.data, getEnv().APP_URL, `n-${randomUUID().slice(0, 8)}`);
  if (!built.ok) throw new PushInputError("The notification is not valid.", built.fieldErrors);
  const username = parsed.data.userName.toLowerCase();
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.username, username));
  if (!user) throw new PushInputError(`There is no user "${username}".`, { userName: ["Unknown user."] });
  const devices = await db
    .select({ id: pushSubscriptions.id })
    .from(pushSubscriptions)
    .where(eq(pushSubscriptions.userId, user.id));
  if (devices.length === 0) return { queued: 0, messageIds: [] };
  const { notification } = built.payload;
  const rows = await db
    .insert(pushMessages)
    .values(
      devices.map((device) => ({
        userId: user.id,
        subscriptionId: device.id,
        title: notification.title,
        body: notification.body,
        targetUrl: notification.navigate,
        iconUrl: parsed.data.iconUrl ? notification.icon : null,
        payload: built.payload,
        urgency: parsed.data.urgency,
        ttlSeconds: parsed.data.ttlSeconds,
      })),
    )
    .returning({ id: pushMessages.id });
  await notify(db, PUSH_CHANNEL);
  return { queued: rows.length, messageIds: rows.map((row) => row.id) };
}
