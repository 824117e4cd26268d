import type { Metadata } from "next";
import { PushQueueView } from "@/components/push/push-queue-view";
import { requireRole } from "@/lib/auth/guards";
import { countPushMessagesByStatus, listPushMessages, QUEUE_PAGE_LIMIT } from "@/lib/push/queue";

export const metadata: Metadata = { title: "Push Notifications Queue" };

export default async function PushQueuePage() {
  await requireRole("admin");
  const [messages, counts] = await Promise.all([listPushMessages(), countPushMessagesByStatus()]);
  return (
    <section className="stack">
      <h1>Push Notifications Queue</h1>
      <p className="muted">
        Notifications are delivered in the background as soon as they are queued. Failed deliveries are
        retried with growing delays; devices whose subscription expired are removed. The newest{" "}
        {QUEUE_PAGE_LIMIT} rows are shown.
      </p>
      <PushQueueView
        counts={counts}
        rows={messages.map((row) => ({
          ...row,
          createdAt: row.createdAt.toISOString(),
          nextAttemptAt: row.nextAttemptAt.toISOString(),
          sentAt: row.sentAt?.toISOString() ?? null,
        }))}
      />
    </section>
  );
}
