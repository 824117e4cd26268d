import type { Metadata } from "next";
import { SubscriptionsTable } from "@/components/push/subscriptions-table";
import { requireRole } from "@/lib/auth/guards";
import { listAllSubscriptions } from "@/lib/push/subscriptions";

export const metadata: Metadata = { title: "Subscriptions" };

export default async function SubscriptionsPage() {
  await requireRole("admin");
  const rows = await listAllSubscriptions();
  return (
    <section className="stack">
      <h1>Subscriptions</h1>
      <p className="muted">Every device that enabled push notifications. Endpoints are shown by host only.</p>
      <SubscriptionsTable
        rows={rows.map((row) => ({
          ...row,
          createdAt: row.createdAt.toISOString(),
          lastSuccessAt: row.lastSuccessAt?.toISOString() ?? null,
          lastFailureAt: row.lastFailureAt?.toISOString() ?? null,
        }))}
      />
    </section>
  );
}
