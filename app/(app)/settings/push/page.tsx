import type { Metadata } from "next";
import { PushSettings } from "@/components/push/push-settings";
import { requireUser } from "@/lib/auth/guards";
import { getVapidPublicKey } from "@/lib/push/credentials";
import { listSubscriptionsForUser } from "@/lib/push/subscriptions";

export const metadata: Metadata = { title: "Push Notifications" };

export default async function PushSettingsPage() {
  const user = await requireUser();
  const [publicKey, devices] = await Promise.all([
    getVapidPublicKey(),
    listSubscriptionsForUser({ userId: user.id }),
  ]);
  return (
    <section className="stack">
      <h1>Push Notifications</h1>
      <PushSettings
        publicKey={publicKey}
        devices={devices.map(
          ({ id, endpoint, deviceLabel, createdAt, lastSuccessAt, lastError, lastFailureAt }) => ({
            id,
            endpoint,
            deviceLabel,
            createdAt: createdAt.toISOString(),
            lastSuccessAt: lastSuccessAt?.toISOString() ?? null,
            lastFailureAt: lastFailureAt?.toISOString() ?? null,
            lastError,
          }),
        )}
      />
    </section>
  );
}
