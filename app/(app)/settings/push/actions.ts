"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { consumeTestSend } from "@/lib/auth/throttle";
import { idSchema } from "@/lib/id-schema";
import { PushInputError, sendPushNotification } from "@/lib/push/send";
import { deleteSubscriptionById } from "@/lib/push/subscriptions";

const removeDevice = authorizedAction(
  { schema: z.object({ id: idSchema() }) },
  async ({ id }, user): Promise<ActionResult> => {
    const removed = await deleteSubscriptionById({ userId: user.id, id });
    revalidatePath("/settings/push");
    return removed ? { ok: true } : { ok: false, error: "That device is not in your list any more." };
  },
);

const sendTestNotification = authorizedAction(
  { schema: z.object({}) },
  async (_input, user): Promise<ActionResult<{ queued: number }>> => {
    const wait = await consumeTestSend({ userId: user.id });
    if (wait > 0) return { ok: false, error: `Too many test notifications — try again in ${wait} s.` };
    try {
      const { queued } = await sendPushNotification({
        userName: user.username,
        title: "Test notification",
        body: "Push notifications work on this device. Tap to open your settings.",
        targetUrl: "/settings/push",
        urgency: "high",
        // Claimed after every real notification: a burst of test sends never delays an approval.
        priority: "low",
      });
      if (queued === 0) return { ok: false, error: "No device of yours has push notifications enabled yet." };
      return { ok: true, queued };
    } catch (error) {
      if (error instanceof PushInputError) return { ok: false, error: error.message };
      throw error;
    }
  },
);

/** Removes one of the user's own devices. */
export async function removeDeviceAction(input: unknown): Promise<ActionResult> {
  return removeDevice(input);
}

/** "Send a test notification" to every device of the user (5 a minute). */
export async function sendTestNotificationAction(input: unknown): Promise<ActionResult<{ queued: number }>> {
  return sendTestNotification(input);
}
