import { randomUUID } from "node:crypto";
import type { Metadata } from "next";
import { ReimbursementForm } from "@/components/reimbursements/reimbursement-form";
import { ReimbursementHistory } from "@/components/reimbursements/reimbursement-history";
import { requireUser } from "@/lib/auth/guards";
import { HISTORY_LIMIT, listReimbursementsForUser } from "@/lib/reimbursements/queries";

export const metadata: Metadata = { title: "Manage Reimbursements" };

export default async function ReimbursementsPage() {
  const user = await requireUser();
  const rows = await listReimbursementsForUser({ userId: user.id });
  return (
    <section className="stack">
      <h1>Manage Reimbursements</h1>
      <ReimbursementForm initialToken={randomUUID()} />
      <section className="stack" aria-labelledby="history-heading">
        <h2 id="history-heading">Reimbursement Request History</h2>
        <ReimbursementHistory
          rows={rows.map((row) => ({ ...row, createdAt: row.createdAt.toISOString() }))}
        />
        {rows.length === HISTORY_LIMIT ? (
          <p className="muted small">Showing your latest {HISTORY_LIMIT} requests.</p>
        ) : null}
      </section>
    </section>
  );
}
