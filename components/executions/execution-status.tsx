"use client";

import { useCallback, useEffect, useRef, useState, useTransition } from "react";
import { abortExecutionAction } from "@/app/(app)/executions/actions";
import { useHoldLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";
import { ProgressBar } from "@/components/ui/progress-bar";
import { StatusBadge } from "@/components/ui/status-badge";
import { isFinalStatus } from "@/lib/chains/statuses";
import { type ExecutionView, progressPercent } from "@/lib/chains/view";

const POLL_MS = 2_000;

/**
 * Follows one execution live: server-sent events from /api/executions/<id>/events (fed by LISTEN/NOTIFY),
 * falling back to polling /api/executions/<id> when the stream breaks. Returns the latest view.
 */
export function useExecution(id: number, initial?: ExecutionView | null): ExecutionView | null {
  const [view, setView] = useState<ExecutionView | null>(initial ?? null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const poll = async () => {
      try {
        const response = await fetch(`/api/executions/${id}`, { cache: "no-store" });
        if (response.ok) {
          const body = (await response.json()) as { execution: ExecutionView };
          if (!stopped) setView(body.execution);
          if (isFinalStatus(body.execution.status)) return;
        }
      } catch {
        // offline for a moment: the next poll retries
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };
    const source =
      typeof EventSource === "undefined" ? null : new EventSource(`/api/executions/${id}/events`);
    if (!source) void poll();
    else {
      source.onmessage = (event) => {
        const next = JSON.parse(event.data as string) as ExecutionView;
        setView(next);
        if (isFinalStatus(next.status)) source.close();
      };
      source.onerror = () => {
        // The stream ended or broke (proxy, server restart): poll instead until the execution is final.
        source.close();
        if (!stopped && !timer) void poll();
      };
    }
    return () => {
      stopped = true;
      source?.close();
      if (timer) clearTimeout(timer);
    };
  }, [id]);
  return view;
}

interface Props {
  id: number;
  initial?: ExecutionView | null;
  /** Called once when the execution reaches SUCCESS, FAILED or ABORTED (e.g. to refresh the page). */
  onFinished?: (view: ExecutionView) => void;
  /** Hide the title when the surrounding page already names the work. */
  showTitle?: boolean;
}

/** One execution's title, status, progress bar, message and Abort, following it live (useExecution). */
export function ExecutionStatus({ id, initial, onFinished, showTitle = true }: Props) {
  const view = useExecution(id, initial);
  const reported = useRef(initial ? isFinalStatus(initial.status) : false);

  useEffect(() => {
    if (view && isFinalStatus(view.status) && !reported.current) {
      reported.current = true;
      onFinished?.(view);
    }
  }, [view, onFinished]);

  if (!view) return <p className="muted">Loading the status of execution {id}…</p>;
  return <ExecutionSummary view={view} showTitle={showTitle} />;
}

/**
 * One execution as given (no live updates of its own: the caller keeps `view` current): title, status,
 * progress bar, message and Abort. `onAborted` runs after an abort request was answered.
 */
export function ExecutionSummary({
  view,
  showTitle = true,
  onAborted,
}: {
  view: ExecutionView;
  showTitle?: boolean;
  onAborted?: () => void;
}) {
  const { id } = view;
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [pending, startTransition] = useTransition();
  useHoldLiveRefresh(pending);

  const abort = useCallback(
    () =>
      startTransition(async () => {
        const result = await abortExecutionAction({ id });
        setNotice(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
        onAborted?.();
      }),
    [id, onAborted],
  );

  const message = view.status === "SUCCESS" ? view.statusMessage : (view.error ?? view.statusMessage);
  return (
    <section className="card stack" aria-label={`Execution ${id}`} data-execution-status={view.status}>
      {showTitle ? <h2 className="execution-title">{view.title || view.chainName}</h2> : null}
      <p aria-live="polite">
        <StatusBadge status={view.status} aborting={view.abortRequested} />{" "}
        {view.attempt > 1 ? (
          <span className="muted small">
            attempt {view.attempt} of {view.maxAttempts}
          </span>
        ) : null}
      </p>
      <ProgressBar value={progressPercent(view)} label={`Progress of execution ${id}`} />
      {message ? <p className="execution-message">{message}</p> : null}
      {view.stepName && !isFinalStatus(view.status) ? (
        <p className="muted small">
          Step {view.stepSequence}: {view.stepName}
        </p>
      ) : null}
      {notice ? <Notice tone={notice.ok ? "success" : "error"}>{notice.text}</Notice> : null}
      {isFinalStatus(view.status) ? null : (
        <div className="toolbar">
          <button
            type="button"
            className="button button-danger-quiet button-small"
            disabled={pending || view.abortRequested}
            onClick={abort}
            aria-label={`Abort execution ${id}`}
          >
            Abort
          </button>
        </div>
      )}
    </section>
  );
}
