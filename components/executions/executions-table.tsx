"use client";

import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useCallback, useEffect, useMemo, useState, useTransition } from "react";
import { abortExecutionAction } from "@/app/(app)/executions/actions";
import { DataTable } from "@/components/ui/data-table";
import { statusLabel } from "@/components/ui/format";
import { Notice } from "@/components/ui/notice";
import { ProgressBar } from "@/components/ui/progress-bar";
import { StatusBadge } from "@/components/ui/status-badge";
import { When } from "@/components/ui/when";
import { type ExecutionView, FINAL_STATUSES, progressPercent } from "@/lib/chains/view";

export interface ConcurrencyUsageView {
  limit: number;
  running: number;
  queued: number;
}

interface Props {
  scope: "mine" | "all";
  initial: ExecutionView[];
  initialUsage?: ConcurrencyUsageView;
  statuses: readonly string[];
  /** How often the list refreshes (ms). */
  refreshMs?: number;
}

/** The status message or error, the next run time of a waiting retry, and every failed attempt's error. */
function MessageCell({ execution }: { execution: ExecutionView }) {
  const text =
    execution.status === "SUCCESS" ? execution.statusMessage : (execution.error ?? execution.statusMessage);
  return (
    <div>
      <span>{text ?? ""}</span>
      {execution.status === "SCHEDULED" && execution.runAt ? (
        <span className="muted small">
          Runs <When value={execution.runAt} />
        </span>
      ) : null}
      {execution.attemptLog.length > 0 ? (
        <details>
          <summary>
            {execution.attemptLog.length} failed attempt{execution.attemptLog.length === 1 ? "" : "s"}
          </summary>
          <ol aria-label={`Attempts of execution ${execution.id}`}>
            {execution.attemptLog.map((entry) => (
              <li key={entry.attempt}>
                Attempt {entry.attempt}
                {entry.step ? ` (${entry.step})` : ""}: {entry.error} · <When value={entry.at} past />
              </li>
            ))}
          </ol>
        </details>
      ) : null}
    </div>
  );
}

/** Executions with live status and progress (polled), a status filter for admins, and Abort. */
export function ExecutionsTable({ scope, initial, initialUsage, statuses, refreshMs = 1_500 }: Props) {
  const [rows, setRows] = useState(initial);
  const [usage, setUsage] = useState(initialUsage);
  const [status, setStatus] = useState("");
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [stale, setStale] = useState(false);
  const [pending, startTransition] = useTransition();

  const refresh = useCallback(async () => {
    const params = new URLSearchParams({ scope });
    if (status) params.set("status", status);
    try {
      const response = await fetch(`/api/executions?${params}`, { cache: "no-store" });
      if (!response.ok) throw new Error(String(response.status));
      const body = (await response.json()) as { executions: ExecutionView[]; usage?: ConcurrencyUsageView };
      setRows(body.executions);
      if (body.usage) setUsage(body.usage);
      setStale(false);
    } catch {
      setStale(true);
    }
  }, [scope, status]);

  useEffect(() => {
    void refresh();
    const timer = setInterval(() => void refresh(), refreshMs);
    return () => clearInterval(timer);
  }, [refresh, refreshMs]);

  const abort = useCallback(
    (id: number) =>
      startTransition(async () => {
        const result = await abortExecutionAction({ id });
        setNotice(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
        await refresh();
      }),
    [refresh],
  );

  const columns = useMemo<ColumnDef<ExecutionView, unknown>[]>(() => {
    const list: ColumnDef<ExecutionView, unknown>[] = [
      {
        accessorKey: "id",
        header: "Id",
        cell: ({ row }) => <Link href={`/executions/${row.original.id}`}>{row.original.id}</Link>,
      },
      {
        id: "title",
        header: "Work",
        accessorFn: (row) => row.title,
        cell: ({ row }) => (
          <span title={row.original.chainName}>{row.original.title || row.original.chainName}</span>
        ),
      },
    ];
    if (scope === "all") list.push({ accessorKey: "username", header: "User" });
    list.push(
      {
        accessorKey: "status",
        header: "Status",
        cell: ({ row }) => (
          <StatusBadge status={row.original.status} aborting={row.original.abortRequested} />
        ),
      },
      {
        id: "progress",
        header: "Progress",
        accessorFn: (row) => progressPercent(row) ?? -1,
        cell: ({ row }) => (
          <ProgressBar
            value={progressPercent(row.original)}
            label={`Progress of execution ${row.original.id}`}
          />
        ),
      },
      {
        id: "actions",
        header: () => <span className="visually-hidden">Actions</span>,
        enableSorting: false,
        cell: ({ row }) =>
          FINAL_STATUSES.includes(row.original.status) ? null : (
            <button
              type="button"
              className="button button-danger-quiet button-small"
              disabled={pending}
              onClick={() => abort(row.original.id)}
              aria-label={`Abort execution ${row.original.id}`}
            >
              Abort
            </button>
          ),
      },
      {
        id: "step",
        header: "Current step",
        accessorFn: (row) => row.stepName ?? "",
        cell: ({ row }) =>
          row.original.stepName ? `${row.original.stepSequence ?? ""}. ${row.original.stepName}` : "–",
      },
      {
        id: "message",
        header: "Message",
        accessorFn: (row) => row.error ?? row.statusMessage ?? "",
        cell: ({ row }) => <MessageCell execution={row.original} />,
      },
      {
        id: "attempts",
        header: "Attempt",
        accessorFn: (row) => row.attempt,
        cell: ({ row }) =>
          row.original.attempt === 0 ? "–" : `${row.original.attempt} of ${row.original.maxAttempts}`,
      },
      {
        accessorKey: "createdAt",
        header: "Created",
        cell: ({ row }) => <When value={row.original.createdAt} past />,
      },
      {
        accessorKey: "startedAt",
        header: "Started",
        cell: ({ row }) => <When value={row.original.startedAt} past />,
      },
      {
        accessorKey: "updatedAt",
        header: "Last change",
        cell: ({ row }) => <When value={row.original.updatedAt} past />,
      },
    );
    return list;
  }, [scope, pending, abort]);

  return (
    <div className="stack">
      {usage ? (
        <p className="card" aria-live="polite">
          Application-wide limit: <strong>{usage.running}</strong> of <strong>{usage.limit}</strong> running
          {usage.limit === 0 ? " (0: no background execution starts)" : ""} · {usage.queued} queued
        </p>
      ) : null}
      {scope === "all" ? (
        <div className="toolbar">
          <label className="field">
            <span>Status</span>
            <select value={status} onChange={(event) => setStatus(event.target.value)}>
              <option value="">All statuses</option>
              {statuses.map((value) => (
                <option key={value} value={value}>
                  {statusLabel(value)}
                </option>
              ))}
            </select>
          </label>
        </div>
      ) : null}
      {notice ? <Notice tone={notice.ok ? "success" : "error"}>{notice.text}</Notice> : null}
      {stale ? <p className="muted small">Could not refresh; retrying…</p> : null}
      <DataTable
        caption={scope === "all" ? "All background executions" : "My background executions"}
        columns={columns}
        data={rows}
        getRowId={(row) => String(row.id)}
        emptyMessage="No background executions yet."
      />
    </div>
  );
}
