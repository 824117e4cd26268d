"use client";

import { createColumnHelper } from "@tanstack/react-table";
import { DataTable } from "@/components/ui/data-table";
import { When } from "@/components/ui/when";

export interface SubscriptionRow {
  id: number;
  username: string;
  deviceLabel: string;
  endpointHost: string;
  createdAt: string;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
}

const column = createColumnHelper<SubscriptionRow>();

const columns = [
  column.accessor("username", { header: "User" }),
  column.accessor("deviceLabel", { header: "Device" }),
  column.accessor("endpointHost", { header: "Endpoint host" }),
  column.accessor("createdAt", { header: "Created", cell: (info) => <When value={info.getValue()} past /> }),
  column.accessor("lastSuccessAt", {
    header: "Last success",
    cell: (info) => <When value={info.getValue()} past />,
  }),
  column.accessor("lastError", {
    header: "Last problem",
    cell: (info) =>
      info.getValue() ? (
        <span className="cell-clip small">
          <When value={info.row.original.lastFailureAt} past />: {info.getValue()}
        </span>
      ) : (
        ""
      ),
  }),
];

export function SubscriptionsTable({ rows }: { rows: SubscriptionRow[] }) {
  return (
    <DataTable
      caption="Push subscriptions"
      columns={columns}
      data={rows}
      searchLabel="Search subscriptions"
      initialSorting={[{ id: "createdAt", desc: true }]}
      emptyMessage="No device has enabled push notifications yet."
    />
  );
}
