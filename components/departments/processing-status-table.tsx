"use client";

import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useState } from "react";
import { DataTable } from "@/components/ui/data-table";
import { ProgressBar } from "@/components/ui/progress-bar";
import { StatusBadge } from "@/components/ui/status-badge";
import { When } from "@/components/ui/when";
import type { ProcessingStatusRow } from "@/lib/departments/queries";
import { formatDuration } from "./duration";

export type ProcessingStatusRowView = ProcessingStatusRow;

const when = (iso: string | null) => <When value={iso} past />;
const percentOf = (row: ProcessingStatusRowView) =>
  row.totalwork ? Math.round(((row.sofar ?? 0) / row.totalwork) * 100) : 0;

/** Departments being processed (all users), polled every second. */
export function ProcessingStatusTable({
  initial,
  initialNow,
  refreshMs = 1_000,
}: {
  initial: ProcessingStatusRowView[];
  initialNow: string;
  refreshMs?: number;
}) {
  const [rows, setRows] = useState(initial);
  // Running time is measured on the server's clock, advanced locally between refreshes.
  const [offset, setOffset] = useState(() => Date.parse(initialNow) - Date.now());
  const [now, setNow] = useState(() => Date.parse(initialNow));
  const [stale, setStale] = useState(false);

  const refresh = useCallback(async () => {
    try {
      const response = await fetch("/api/processing/status", { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const body = (await response.json()) as { rows: ProcessingStatusRowView[]; now: string };
      setRows(body.rows);
      const serverOffset = Date.parse(body.now) - Date.now();
      setOffset(serverOffset);
      setNow(Date.now() + serverOffset);
      setStale(false);
    } catch {
      setStale(true);
    }
  }, []);

  useEffect(() => {
    const timer = setInterval(() => void refresh(), refreshMs);
    return () => clearInterval(timer);
  }, [refresh, refreshMs]);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now() + offset), 1_000);
    return () => clearInterval(timer);
  }, [offset]);

  const columns = useMemo<ColumnDef<ProcessingStatusRowView, unknown>[]>(
    () => [
      { accessorKey: "username", header: "Username", cell: ({ row }) => row.original.username.toUpperCase() },
      { accessorKey: "deptno", header: "Department" },
      {
        id: "bar",
        header: "Progress",
        accessorFn: percentOf,
        cell: ({ row }) => (
          <ProgressBar
            value={row.original.status === "EXECUTING" ? percentOf(row.original) : 0}
            label={`Progress of department ${row.original.deptno} by ${row.original.username.toUpperCase()}`}
          />
        ),
      },
      {
        accessorKey: "status",
        header: "Status",
        cell: ({ row }) => <StatusBadge status={row.original.status} />,
      },
      {
        accessorKey: "submittedAt",
        header: "Submitted",
        cell: ({ row }) => when(row.original.submittedAt),
      },
      { accessorKey: "startedAt", header: "Started", cell: ({ row }) => when(row.original.startedAt) },
      {
        id: "running",
        header: "Running time",
        accessorFn: (row) => (row.startedAt ? now - Date.parse(row.startedAt) : -1),
        cell: ({ row }) =>
          row.original.startedAt ? formatDuration((now - Date.parse(row.original.startedAt)) / 1000) : "—",
      },
    ],
    [now],
  );

  return (
    <div className="stack">
      {stale ? <p className="muted small">Could not refresh; retrying…</p> : null}
      <DataTable
        caption="Departments being processed"
        columns={columns}
        data={rows}
        getRowId={(row) => String(row.executionId)}
        emptyMessage="No department is being processed right now."
      />
    </div>
  );
}
