import { NextResponse } from "next/server";
import { z } from "zod";
import { requireApiUser } from "@/lib/auth/api";
import { HttpError } from "@/lib/http/errors";
import { requireSameOrigin } from "@/lib/http/origin";
import { readJsonBody } from "@/lib/http/read-json";
import { apiRoute, parseOrThrow } from "@/lib/http/route";
import {
  deleteSubscriptionByEndpoint,
  endpointSchema,
  SubscriptionRefused,
  saveSubscription,
  subscriptionInputSchema,
} from "@/lib/push/subscriptions";

export const dynamic = "force-dynamic";

/** Saves this device's subscription for the signed-in user (enable, or the service worker's renewal). */
export const POST = apiRoute(async (request: Request) => {
  requireSameOrigin(request);
  const user = await requireApiUser();
  const input = parseOrThrow(subscriptionInputSchema, await readJsonBody(request));
  try {
    const saved = await saveSubscription({
      userId: user.id,
      input,
      userAgent: request.headers.get("user-agent") ?? "",
    });
    return NextResponse.json({ ok: true, id: saved.id, deviceLabel: saved.deviceLabel }, { status: 201 });
  } catch (error) {
    if (error instanceof SubscriptionRefused) {
      throw new HttpError(error.code, error.message);
    }
    throw error;
  }
});

const deleteSchema = z.object({ endpoint: endpointSchema });

/** Removes this device's subscription (disable). Only the user's own rows can match. */
export const DELETE = apiRoute(async (request: Request) => {
  requireSameOrigin(request);
  const user = await requireApiUser();
  const { endpoint } = parseOrThrow(deleteSchema, await readJsonBody(request));
  const removed = await deleteSubscriptionByEndpoint({ userId: user.id, endpoint });
  return NextResponse.json({ ok: true, removed });
});
