import type { Metadata } from "next";
import { ProcessingStatusTable } from "@/components/departments/processing-status-table";
import { requireUser } from "@/lib/auth/guards";
import { listProcessingStatus } from "@/lib/departments/queries";

export const metadata: Metadata = { title: "Processing Status" };
export const dynamic = "force-dynamic";

export default async function Page() {
  await requireUser();
  const rows = await listProcessingStatus();
  return (
    <section className="stack">
      <h1>Processing Status</h1>
      <p className="muted">
        Every department being processed or waiting to start, by all users. The list updates by itself.
      </p>
      <ProcessingStatusTable initial={rows} initialNow={new Date().toISOString()} />
    </section>
  );
}
