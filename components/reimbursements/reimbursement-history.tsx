"use client";

import { createColumnHelper } from "@tanstack/react-table";
import Link from "next/link";
import { DataTable } from "@/components/ui/data-table";
import { useLiveRefresh } from "@/components/ui/live-refresh";
import { StatusBadge } from "@/components/ui/status-badge";
import { When } from "@/components/ui/when";
import { formatCents } from "@/lib/reimbursements/money";

export interface HistoryRow {
  id: number;
  amountCents: number;
  status: "REVIEWING" | "APPROVED" | "REJECTED";
  receiptFrom: string;
  createdAt: string;
}

const column = createColumnHelper<HistoryRow>();

const columns = [
  column.accessor("id", {
    header: "Id",
    cell: (info) => (
      <Link className="row-link" href={`/reimbursements/${info.getValue()}`}>
        {info.getValue()}
      </Link>
    ),
  }),
  column.accessor("amountCents", { header: "Amount", cell: (info) => formatCents(info.getValue()) }),
  column.accessor("status", {
    header: "Status",
    cell: (info) => <StatusBadge status={info.getValue()} />,
  }),
  column.accessor("receiptFrom", { header: "Receipt From" }),
  column.accessor("createdAt", { header: "Created", cell: (info) => <When value={info.getValue()} past /> }),
];

export function ReimbursementHistory({ rows }: { rows: HistoryRow[] }) {
  // Approvers decide while the claimant watches.
  useLiveRefresh();
  return (
    <DataTable
      caption="Reimbursement Request History"
      columns={columns}
      data={rows}
      getRowId={(row) => String(row.id)}
      initialSorting={[{ id: "createdAt", desc: true }]}
      emptyMessage="You have not submitted a reimbursement yet."
    />
  );
}
