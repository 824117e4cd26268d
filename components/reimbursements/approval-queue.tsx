"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import { decideAction } from "@/app/(app)/approvals/actions";
import { useHoldLiveRefresh, useLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";
import { When } from "@/components/ui/when";

export interface TaskRow {
  id: number;
  subject: string;
  priority: "LOW" | "MEDIUM" | "HIGH";
  dueAt: string;
  createdAt: string;
  reimbursementId: number;
  initiatedBy: string;
  initiatedById: number;
}

export function ApprovalQueue({
  tasks,
  currentUserId,
  highlighted,
}: {
  tasks: TaskRow[];
  currentUserId: number;
  highlighted: number | null;
}) {
  const router = useRouter();
  // Claims arrive and are decided by others while the page is open.
  useLiveRefresh();
  const [pending, startTransition] = useTransition();
  useHoldLiveRefresh(pending);
  const [busyTask, setBusyTask] = useState<number | null>(null);
  const [message, setMessage] = useState<{ kind: "success" | "error"; text: string } | null>(null);

  function decide(taskId: number, decision: "approve" | "reject") {
    setMessage(null);
    setBusyTask(taskId);
    startTransition(async () => {
      const result = await decideAction({ taskId, decision });
      setMessage(
        result.ok ? { kind: "success", text: result.message } : { kind: "error", text: result.error },
      );
      setBusyTask(null);
      router.refresh();
    });
  }

  return (
    <div className="stack">
      {message ? <Notice tone={message.kind}>{message.text}</Notice> : null}
      {tasks.length === 0 ? (
        <p className="card muted">No claims are waiting for a decision.</p>
      ) : (
        <ul className="stack plain-list" aria-label="Claims waiting for approval">
          {tasks.map((task) => {
            const expired = new Date(task.dueAt).getTime() < Date.now();
            const own = task.initiatedById === currentUserId;
            return (
              <li key={task.id} className={`card task${task.id === highlighted ? " task-highlight" : ""}`}>
                <div className="stack" style={{ gap: "0.3rem" }}>
                  <h2>
                    <Link href={`/reimbursements/${task.reimbursementId}`}>{task.subject}</Link>
                  </h2>
                  <div className="task-meta muted">
                    <span>Claim Approval · Initiated by {task.initiatedBy}</span>
                    <span>
                      Due <When value={task.dueAt} />
                      {expired ? " (expired)" : ""}
                    </span>
                    <span>Priority {task.priority.toLowerCase()}</span>
                  </div>
                </div>
                {own ? (
                  <p className="muted small">Your own claim: another approver decides it.</p>
                ) : (
                  <div className="toolbar">
                    <button
                      type="button"
                      className="button button-primary"
                      disabled={pending}
                      aria-label={`Approve: ${task.subject}`}
                      onClick={() => decide(task.id, "approve")}
                    >
                      {busyTask === task.id ? "Saving…" : "Approve"}
                    </button>
                    <button
                      type="button"
                      className="button"
                      disabled={pending}
                      aria-label={`Reject: ${task.subject}`}
                      onClick={() => decide(task.id, "reject")}
                    >
                      Reject
                    </button>
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
