"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { idSchema } from "@/lib/id-schema";
import { regenerateVapidCredentials } from "@/lib/push/credentials";
import { pushQueueNow, removePushMessage } from "@/lib/push/queue";

const admin = { role: "admin" as const };

export const removePushMessageAction = authorizedAction(
  { ...admin, schema: z.object({ id: idSchema() }) },
  async ({ id }): Promise<ActionResult> => {
    const removed = await removePushMessage({ id });
    revalidatePath("/admin/push-queue");
    return removed ? { ok: true } : { ok: false, error: "That notification is no longer in the queue." };
  },
);

export const pushQueueAction = authorizedAction(
  { ...admin, schema: z.object({ force: z.boolean() }) },
  async ({ force }): Promise<ActionResult<{ count: number }>> => {
    const count = await pushQueueNow({ force });
    revalidatePath("/admin/push-queue");
    return { ok: true, count };
  },
);

export const regenerateCredentialsAction = authorizedAction(
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
