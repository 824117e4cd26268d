import type { Metadata } from "next";
import Link from "next/link";
import { AccountSecurity } from "@/components/auth/account-security";
import { PushStatus } from "@/components/push/push-status";
import { requireUser } from "@/lib/auth/guards";
import { listSubscriptionsForUser } from "@/lib/push/subscriptions";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  const user = await requireUser();
  const devices = await listSubscriptionsForUser({ userId: user.id });
  return (
    <section className="stack">
      <h1>Settings</h1>
      <ul className="tiles">
        <li>
          <Link href="/settings/push" className="tile">
            <strong>Push Notifications</strong>
            <PushStatus knownEndpoints={devices.map((device) => device.endpoint)} />
            <span className="muted">
              Enable or disable notifications on this device and manage your devices.
            </span>
          </Link>
        </li>
      </ul>
      <AccountSecurity />
    </section>
  );
}
