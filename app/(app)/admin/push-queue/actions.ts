"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { idSchema } from "@/lib/id-schema";
import { regenerateVapidCredentials } from "@/lib/push/credentials";
import { pushQueueNow, removePushMessage } from "@/lib/push/queue";

const admin = { role: "admin" as const };

const removeMessage = authorizedAction(
  { ...admin, schema: z.object({ id: idSchema() }) },
  async ({ id }): Promise<ActionResult> => {
    const removed = await removePushMessage({ id });
    revalidatePath("/admin/push-queue");
    return removed ? { ok: true } : { ok: false, error: "That notification is no longer in the queue." };
  },
);

const pushNow = authorizedAction(
  { ...admin, schema: z.object({ force: z.boolean() }) },
  async ({ force }): Promise<ActionResult<{ count: number }>> => {
    const count = await pushQueueNow({ force });
    revalidatePath("/admin/push-queue");
    return { ok: true, count };
  },
);

const regenerate = authorizedAction(
  {
    ...admin,
    schema: z.object({ confirm: z.literal("REGENERATE", { message: "Type REGENERATE to confirm." }) }),
  },
  async (): Promise<ActionResult<{ removedSubscriptions: number; removedMessages: number }>> => {
    const { removedSubscriptions, removedMessages } = await regenerateVapidCredentials();
    revalidatePath("/admin/push-queue");
    revalidatePath("/admin/subscriptions");
    return { ok: true, removedSubscriptions, removedMessages };
  },
);

/** Removes one notification from the queue. */
export async function removePushMessageAction(input: unknown): Promise<ActionResult> {
  return removeMessage(input);
}

/** "Push Queue": what waits for a retry is sent now; "Force Push Queue" (force) also retries failed ones. */
export async function pushQueueAction(input: unknown): Promise<ActionResult<{ count: number }>> {
  return pushNow(input);
}

/** New VAPID keys: every subscription and queued notification is removed. */
export async function regenerateCredentialsAction(
  input: unknown,
): Promise<ActionResult<{ removedSubscriptions: number; removedMessages: number }>> {
  return regenerate(input);
}
