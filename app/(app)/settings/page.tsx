import type { Metadata } from "next";
import Link from "next/link";
import { AccountSecurity } from "@/components/auth/account-security";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Settings" };

export default async function SettingsPage() {
  await requireUser();
  return (
    <section className="stack">
      <h1>Settings</h1>
      <ul className="tiles">
        <li>
          <Link href="/settings/push" className="tile">
            <strong>Push Notifications</strong>
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
