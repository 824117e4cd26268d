import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { formatDateTime } from "@/components/ui/format";
import { LiveRefresh } from "@/components/ui/live-refresh";
import { StatusBadge } from "@/components/ui/status-badge";
import { requireUser } from "@/lib/auth/guards";
import { formatCents } from "@/lib/reimbursements/money";
import { getReimbursementForViewer } from "@/lib/reimbursements/queries";

export const metadata: Metadata = { title: "Reimbursement" };

export default async function ReimbursementDetailPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  if (!/^[1-9]\d{0,9}$/.test(id) || Number(id) > 2_147_483_647) notFound();
  const claim = await getReimbursementForViewer({ id: Number(id), viewer: user });
  if (!claim) notFound();
  const fields: [string, React.ReactNode][] = [
    ["Amount", formatCents(claim.amountCents)],
    ["Receipt From", claim.receiptFrom],
    ["Status", <StatusBadge key="status" status={claim.status} />],
    ["Decided On", claim.decidedOn ? formatDateTime(claim.decidedOn) : "—"],
    ["Decided By", claim.decidedBy ? claim.decidedBy.toUpperCase() : "—"],
    ["Created", formatDateTime(claim.createdAt)],
  ];
  const back = claim.claimantId === user.id ? "/reimbursements" : "/approvals";
  return (
    <section className="stack">
      <h1>Reimbursement {claim.id}</h1>
      {claim.status === "REVIEWING" ? <LiveRefresh /> : null}
      <dl className="card details">
        {claim.claimantId !== user.id ? (
          <div>
            <dt>Submitted by</dt>
            <dd>{claim.claimant.toUpperCase()}</dd>
          </div>
        ) : null}
        {fields.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      <p>
        <Link href={back} className="button">
          Close
        </Link>
      </p>
    </section>
  );
}
