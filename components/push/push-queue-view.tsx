"use client";

import { createColumnHelper } from "@tanstack/react-table";
import { useRef, useState, useTransition } from "react";
import {
  pushQueueAction,
  regenerateCredentialsAction,
  removePushMessageAction,
} from "@/app/(app)/admin/push-queue/actions";
import { DataTable } from "@/components/ui/data-table";
import { formatDateTime } from "@/components/ui/format";

export interface QueueRow {
  id: number;
  username: string;
  title: string;
  body: string;
  targetUrl: string;
  status: "queued" | "sending" | "sent" | "failed";
  attempts: number;
  lastError: string | null;
  lastStatusCode: number | null;
  createdAt: string;
  nextAttemptAt: string;
  sentAt: string | null;
}

const column = createColumnHelper<QueueRow>();

export function PushQueueView({
  rows,
  counts,
}: {
  rows: QueueRow[];
  counts: Partial<Record<QueueRow["status"], number>>;
}) {
  const [pending, startTransition] = useTransition();
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [confirmText, setConfirmText] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);

  function run(action: () => Promise<{ ok: boolean; error?: string }>, success: (result: never) => string) {
    setMessage(null);
    startTransition(async () => {
      const result = await action();
      setMessage(
        result.ok
          ? { kind: "success", text: success(result as never) }
          : { kind: "error", text: result.error ?? "Failed." },
      );
    });
  }

  const columns = [
    column.accessor("username", { header: "User" }),
    column.accessor("title", {
      header: "Title",
      cell: (info) => <span className="cell-clip">{info.getValue()}</span>,
    }),
    column.accessor("body", {
      header: "Body",
      cell: (info) => <span className="cell-clip">{info.getValue()}</span>,
    }),
    column.accessor("targetUrl", {
      header: "Target",
      cell: (info) => <span className="cell-clip small">{info.getValue()}</span>,
    }),
    column.accessor("status", {
      header: "Status",
      cell: (info) => <span className={`status status-${info.getValue()}`}>{info.getValue()}</span>,
    }),
    column.accessor("attempts", { header: "Attempts" }),
    column.accessor("lastError", {
      header: "Error",
      cell: (info) => <span className="cell-clip small">{info.getValue() ?? ""}</span>,
    }),
    column.accessor("createdAt", { header: "Created", cell: (info) => formatDateTime(info.getValue()) }),
    column.accessor("nextAttemptAt", {
      header: "Next attempt",
      cell: (info) => (info.row.original.status === "queued" ? formatDateTime(info.getValue()) : "—"),
    }),
    column.display({
      id: "remove",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (info) => (
        <button
          type="button"
          className="button"
          disabled={pending}
          aria-label={`Remove notification ${info.row.original.id}`}
          onClick={() =>
            run(
              () => removePushMessageAction({ id: info.row.original.id }),
              () => "Notification removed.",
            )
          }
        >
          Remove
        </button>
      ),
    }),
  ];

  return (
    <div className="stack">
      <div className="toolbar">
        <span className="status status-queued">Queued {counts.queued ?? 0}</span>
        <span className="status status-sending">Sending {counts.sending ?? 0}</span>
        <span className="status status-sent">Sent {counts.sent ?? 0}</span>
        <span className="status status-failed">Failed {counts.failed ?? 0}</span>
      </div>
      <div className="toolbar">
        <button
          type="button"
          className="button button-primary"
          disabled={pending}
          onClick={() =>
            run(
              () => pushQueueAction({ force: false }),
              (result: { count: number }) => `${result.count} queued notification(s) are being sent now.`,
            )
          }
        >
          Push Queue
        </button>
        <button
          type="button"
          className="button"
          disabled={pending}
          onClick={() =>
            run(
              () => pushQueueAction({ force: true }),
              (result: { count: number }) =>
                `${result.count} notification(s), failed ones included, are being sent now.`,
            )
          }
        >
          Force Push Queue
        </button>
        <button type="button" className="button button-danger" onClick={() => dialog.current?.showModal()}>
          Regenerate credentials
        </button>
      </div>
      {message ? (
        <p className={`alert alert-${message.kind}`} role={message.kind === "error" ? "alert" : "status"}>
          {message.text}
        </p>
      ) : null}
      <DataTable
        caption="Push notifications queue"
        columns={columns}
        data={rows}
        searchLabel="Search the queue"
        emptyMessage="The queue is empty."
      />
      <dialog ref={dialog} aria-labelledby="regenerate-title" onClose={() => setConfirmText("")}>
        <form
          method="dialog"
          className="stack"
          onSubmit={(event) => {
            event.preventDefault();
            dialog.current?.close();
            run(
              () => regenerateCredentialsAction({ confirm: confirmText }),
              (result: { removedSubscriptions: number; removedMessages: number }) =>
                `New credentials created. ${result.removedSubscriptions} subscription(s) and ${result.removedMessages} queued notification(s) were removed; users must enable notifications again.`,
            );
          }}
        >
          <h2 id="regenerate-title">Regenerate push credentials?</h2>
          <p>
            This creates a new VAPID key pair.{" "}
            <strong>Every existing subscription stops working and is deleted</strong>, and the push queue is
            cleared. Every user has to enable push notifications again on each device.
          </p>
          <label className="field">
            <span>Type REGENERATE to confirm</span>
            <input
              value={confirmText}
              onChange={(event) => setConfirmText(event.target.value)}
              autoComplete="off"
            />
          </label>
          <div className="toolbar">
            <button type="submit" className="button button-danger" disabled={confirmText !== "REGENERATE"}>
              Regenerate credentials
            </button>
            <button type="button" className="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
          </div>
        </form>
      </dialog>
    </div>
  );
}
