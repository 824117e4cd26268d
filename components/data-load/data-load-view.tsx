"use client";

import { useRouter } from "next/navigation";
import { useCallback, useRef, useState, useTransition } from "react";
import { clearSalesDataAction } from "@/app/(app)/data-load/actions";
import { ExecutionSummary } from "@/components/executions/execution-status";
import { ConfirmButton } from "@/components/ui/confirm-button";
import { plural } from "@/components/ui/format";
import { useHoldLiveRefresh, useLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";
import { ScrollRegion } from "@/components/ui/scroll-region";
import { StatusBadge } from "@/components/ui/status-badge";
import { isFinalStatus } from "@/lib/chains/statuses";
import type { DataLoadView as LoadView } from "@/lib/data-load/queries";
import { formatBytes, MAX_UPLOAD_BYTES } from "@/lib/data-load/rules";

export type DataLoadRow = LoadView;

const number = (value: number) => value.toLocaleString("en-US");

/** Upload form, the user's loads with live status and rejected rows, and "Clear data". */
export function DataLoadView({ loads, salesTotal }: { loads: DataLoadRow[]; salesTotal: number }) {
  const router = useRouter();
  // The one live mechanism of this page: the server part (these loads, their status and progress, and
  // the sales table, which other users' loads and clears change) is read again every 1.5 s while the
  // tab is visible, and at once after an upload, an abort or a clear. No stream of its own.
  useLiveRefresh();
  const refresh = useCallback(() => router.refresh(), [router]);
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | null>(null);
  const [uploading, setUploading] = useState(false);
  const [chosen, setChosen] = useState<string | null>(null);
  const [dragging, setDragging] = useState(false);
  const [clearing, startClearing] = useTransition();
  useHoldLiveRefresh(clearing);
  const fileInput = useRef<HTMLInputElement>(null);

  async function upload(event: React.FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    const file = fileInput.current?.files?.[0];
    setNotice(null);
    if (!file) return setNotice({ ok: false, text: "Choose a CSV or ZIP file to load." });
    if (file.size > MAX_UPLOAD_BYTES) {
      return setNotice({
        ok: false,
        text: `"${file.name}" is ${formatBytes(file.size)}; files up to ${formatBytes(MAX_UPLOAD_BYTES)} can be loaded.`,
      });
    }
    const body = new FormData();
    body.set("file", file);
    setUploading(true);
    try {
      const response = await fetch("/api/data-load", { method: "POST", body });
      const result = (await response.json().catch(() => ({}))) as {
        ok?: boolean;
        message?: string;
        error?: string;
      };
      if (response.ok && result.ok) {
        setNotice({ ok: true, text: result.message ?? "Submitted for loading." });
        form.reset();
        setChosen(null);
        refresh();
      } else setNotice({ ok: false, text: result.error ?? `The upload failed (${response.status}).` });
    } catch {
      setNotice({ ok: false, text: "The upload failed: the server could not be reached." });
    } finally {
      setUploading(false);
    }
  }

  function clear() {
    startClearing(async () => {
      const result = await clearSalesDataAction({ confirm: "clear" });
      setNotice(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
      router.refresh();
    });
  }

  return (
    <div className="stack">
      <form className="card stack" onSubmit={upload} aria-label="Load a file">
        <label
          className={`drop-zone${dragging ? " drop-zone-active" : ""}`}
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={(event) => {
            event.preventDefault();
            setDragging(false);
            const input = fileInput.current;
            if (input && event.dataTransfer.files.length > 0) {
              input.files = event.dataTransfer.files;
              setChosen(event.dataTransfer.files[0]?.name ?? null);
            }
          }}
        >
          <span className="drop-zone-title">CSV or ZIP file</span>
          <span className="muted small" id="file-hint">
            {chosen ? `Chosen: ${chosen}` : "Drop a file here, or tap to choose one."}
          </span>
          <input
            ref={fileInput}
            type="file"
            name="file"
            accept=".csv,.zip,text/csv,application/zip"
            aria-describedby="file-hint"
            onChange={(event) => setChosen(event.currentTarget.files?.[0]?.name ?? null)}
          />
        </label>
        <div className="toolbar">
          <button type="submit" className="button button-primary" disabled={uploading}>
            {uploading ? "Uploading…" : "Load Data"}
          </button>
          <ConfirmButton
            label="Clear data"
            title="Clear the sales data?"
            confirmLabel="Clear data"
            className="push-right"
            onConfirm={clear}
            disabled={clearing || salesTotal === 0}
          >
            <p>The loaded sales rows are removed from the table. The list of your loads stays.</p>
          </ConfirmButton>
        </div>
      </form>
      {notice ? <Notice tone={notice.ok ? "success" : "error"}>{notice.text}</Notice> : null}
      <h2>Your loads</h2>
      {loads.length === 0 ? <p className="muted">You have not loaded a file yet.</p> : null}
      <ul className="load-list">
        {loads.map((load) => (
          <li key={load.id} className="card stack load" aria-label={`Load ${load.id}: ${load.fileName}`}>
            <div className="load-head">
              <strong className="cell-clip">{load.fileName}</strong>
              <StatusBadge status={load.status} />
            </div>
            {load.execution && !isFinalStatus(load.status) ? (
              <ExecutionSummary view={load.execution} showTitle={false} onAborted={refresh} />
            ) : (
              <p className="load-progress" aria-live="polite">
                {plural(load.rowsProcessed, "row")} processed · {number(load.rowsLoaded)} loaded ·{" "}
                {number(load.rowsRejected)} rejected
              </p>
            )}
            {load.error ? (
              <Notice tone="error" announce={false}>
                {load.error}
              </Notice>
            ) : null}
            {load.rejects.length > 0 ? (
              <details className="rejects">
                <summary>
                  Rejected rows ({number(load.rowsRejected)}
                  {load.rowsRejected > load.rejects.length ? `, first ${load.rejects.length} shown` : ""})
                </summary>
                <ScrollRegion label={`Rejected rows of ${load.fileName}`}>
                  <table>
                    <caption className="visually-hidden">Rejected rows of {load.fileName}</caption>
                    <thead>
                      <tr>
                        <th scope="col">Line</th>
                        <th scope="col">Reason</th>
                        <th scope="col">Row</th>
                      </tr>
                    </thead>
                    <tbody>
                      {load.rejects.map((reject) => (
                        <tr key={reject.id}>
                          <td>{reject.line}</td>
                          <td>{reject.reason}</td>
                          <td>
                            <code className="raw-row">{reject.raw}</code>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </ScrollRegion>
              </details>
            ) : null}
          </li>
        ))}
      </ul>
    </div>
  );
}
