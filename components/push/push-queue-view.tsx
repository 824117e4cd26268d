"use client";

import { createColumnHelper } from "@tanstack/react-table";
import { useRef, useState, useTransition } from "react";
import {
  pushQueueAction,
  regenerateCredentialsAction,
  removePushMessageAction,
} from "@/app/(app)/admin/push-queue/actions";
import { ConfirmButton } from "@/components/ui/confirm-button";
import { DataTable } from "@/components/ui/data-table";
import { plural, statusLabel, statusTone } from "@/components/ui/format";
import { useHoldLiveRefresh, useLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";
import { StatusBadge } from "@/components/ui/status-badge";
import { When } from "@/components/ui/when";

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
  useHoldLiveRefresh(pending);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);
  const [confirmText, setConfirmText] = useState("");
  const dialog = useRef<HTMLDialogElement>(null);
  // Deliveries change the queue while the page is open.
  useLiveRefresh();

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
      cell: (info) => <StatusBadge status={info.getValue()} />,
    }),
    column.accessor("attempts", { header: "Attempts" }),
    column.accessor("lastError", {
      header: "Error",
      cell: (info) => <span className="cell-clip small">{info.getValue() ?? ""}</span>,
    }),
    column.accessor("createdAt", {
      header: "Created",
      cell: (info) => <When value={info.getValue()} past />,
    }),
    column.accessor("nextAttemptAt", {
      header: "Next attempt",
      cell: (info) => (info.row.original.status === "queued" ? <When value={info.getValue()} /> : "—"),
    }),
    column.display({
      id: "remove",
      header: () => <span className="visually-hidden">Actions</span>,
      cell: (info) => (
        <ConfirmButton
          label="Remove"
          ariaLabel={`Remove notification ${info.row.original.id}`}
          title={`Remove notification ${info.row.original.id}?`}
          confirmLabel="Remove notification"
          disabled={pending}
          onConfirm={() =>
            run(
              () => removePushMessageAction({ id: info.row.original.id }),
              () => "Notification removed.",
            )
          }
        >
          <p>
            “{info.row.original.title}” for {info.row.original.username} will not be delivered.
          </p>
        </ConfirmButton>
      ),
    }),
  ];

  return (
    <div className="stack">
      <div className="toolbar">
        {(["queued", "sending", "sent", "failed"] as const).map((status) => (
          <span key={status} className={`status tone-${statusTone(status)}`}>
            {statusLabel(status)} {counts[status] ?? 0}
          </span>
        ))}
      </div>
      <div className="toolbar">
        <button
          type="button"
          className="button button-primary"
          disabled={pending}
          onClick={() =>
            run(
              () => pushQueueAction({ force: false }),
              (result: { count: number }) =>
                `${plural(result.count, "waiting notification")} ${result.count === 1 ? "is" : "are"} being sent now.`,
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
                `${plural(result.count, "notification")}, failed ones included, ${result.count === 1 ? "is" : "are"} being sent now.`,
            )
          }
        >
          Force Push Queue
        </button>
        <button
          type="button"
          className="button button-danger-quiet push-right"
          onClick={() => dialog.current?.showModal()}
        >
          Regenerate credentials
        </button>
      </div>
      {message ? <Notice tone={message.kind}>{message.text}</Notice> : null}
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
                `New credentials created. ${plural(result.removedSubscriptions, "subscription")} and ${plural(result.removedMessages, "waiting notification")} were removed; users must enable notifications again.`,
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
