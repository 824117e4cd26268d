"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, useTransition } from "react";
import {
  abortAllExecutionsAction,
  retryExecutionAction,
  saveExecutionLimitsAction,
} from "@/app/(app)/admin/executions/actions";
import { ConfirmButton } from "@/components/ui/confirm-button";
import { FieldError } from "@/components/ui/field-error";
import { formatDateTime } from "@/components/ui/format";
import type { AttemptRecord } from "@/lib/chains/view";

type Errors = Record<string, string[] | undefined>;
type Notice = { ok: boolean; text: string; fieldErrors?: Errors } | null;

export interface LimitRow {
  value: number | null;
  fallback: number | null;
}
export interface ChainLimitRow extends LimitRow {
  chainName: string;
  label: string;
}
export interface DeadLetter {
  id: number;
  title: string;
  chainName: string;
  username: string;
  error: string | null;
  finishedAt: string | null;
  attemptLog: AttemptRecord[];
}

function NoticeLine({ notice }: { notice: Notice }) {
  if (!notice) return null;
  return (
    <p
      role={notice.ok ? "status" : "alert"}
      className={`alert ${notice.ok ? "alert-success" : "alert-error"}`}
    >
      {notice.text}
    </p>
  );
}

const fallbackText = (row: LimitRow) => (row.fallback === null ? "no limit" : `default ${row.fallback}`);

/** /admin/executions: runtime limits (stored in the database, read by every worker). */
export function ExecutionLimitsForm({
  app,
  perUser,
  chains,
}: {
  app: LimitRow;
  perUser: LimitRow;
  chains: ChainLimitRow[];
}) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [notice, setNotice] = useState<Notice>(null);
  /** What was typed in a refused save: shown again beside its error (React resets a submitted form). */
  const [kept, setKept] = useState<Record<string, string> | null>(null);
  const errors = notice?.fieldErrors ?? {};

  function save(formData: FormData) {
    startTransition(async () => {
      const result = await saveExecutionLimitsAction(formData);
      setNotice(
        result.ok
          ? { ok: true, text: result.message }
          : { ok: false, text: result.error, fieldErrors: result.fieldErrors },
      );
      setKept(
        result.ok
          ? null
          : Object.fromEntries(
              [...formData].map(([key, value]) => [key, typeof value === "string" ? value : ""]),
            ),
      );
      if (result.ok) router.refresh();
    });
  }

  const field = (name: string, label: string, row: LimitRow, hint?: string) => (
    <label className="field">
      <span>
        {label}
        {hint ? <span className="muted small"> {hint}</span> : null}
      </span>
      <input
        name={name}
        inputMode="numeric"
        defaultValue={kept?.[name] ?? (row.value === null ? "" : String(row.value))}
        placeholder={fallbackText(row)}
        maxLength={5}
        aria-invalid={Boolean(errors[name])}
        aria-describedby={`${name}-error`}
      />
      <FieldError id={`${name}-error`} messages={errors[name]} />
    </label>
  );

  return (
    // A new key after each refused save re-applies the kept values.
    <form
      key={JSON.stringify(kept)}
      action={save}
      className="card stack"
      noValidate
      aria-labelledby="limits-heading"
    >
      <h2 id="limits-heading">Limits</h2>
      <p className="muted small">
        Stored in the database and read by every worker at each claim: a change applies within 2 seconds,
        without a restart. Empty: the default. 0 holds everything in its scope; running executions go on.
      </p>
      <NoticeLine notice={notice} />
      <div className="stack">
        {field("app", "Application-wide limit", app)}
        {field("perUser", "Per-user limit", perUser)}
      </div>
      <h3>Per chain</h3>
      <ul className="stack plain-list">
        {chains.map((chain) => (
          <li key={chain.chainName}>
            {field(
              `chain:${chain.chainName}`,
              `Limit of ${chain.label}`,
              chain,
              chain.label === chain.chainName ? undefined : `(${chain.chainName})`,
            )}
          </li>
        ))}
      </ul>
      <div className="toolbar">
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Saving…" : "Save limits"}
        </button>
      </div>
    </form>
  );
}

/**
 * /admin/executions: Abort all, per chain and for the whole application, apart from the limits form (a
 * destructive button is not the neighbour of a field or of Save); each asks for a confirmation first.
 */
export function AbortExecutions({ chains }: { chains: ChainLimitRow[] }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [notice, setNotice] = useState<Notice>(null);

  function abortAll(chainName?: string) {
    startTransition(async () => {
      const result = await abortAllExecutionsAction({ chainName, confirm: "abort-all" });
      setNotice(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
      router.refresh();
    });
  }

  return (
    <section className="card stack" aria-labelledby="abort-heading">
      <h2 id="abort-heading">Abort executions</h2>
      <p className="muted small">
        Waiting executions end at once; running ones stop at their next step. This cannot be undone.
      </p>
      <NoticeLine notice={notice} />
      <ul className="stack plain-list">
        {chains.map((chain) => (
          <li key={chain.chainName} className="toolbar">
            <span>
              {chain.label}
              {chain.label === chain.chainName ? null : (
                <span className="muted small"> ({chain.chainName})</span>
              )}
            </span>
            <ConfirmButton
              label="Abort all"
              ariaLabel={`Abort all executions of ${chain.label}`}
              title={`Abort all executions of ${chain.label}?`}
              confirmLabel="Abort all"
              disabled={pending}
              onConfirm={() => abortAll(chain.chainName)}
            >
              Waiting executions of this chain end at once; running ones stop at their next step. This cannot
              be undone.
            </ConfirmButton>
          </li>
        ))}
      </ul>
      <div className="toolbar">
        <ConfirmButton
          label="Abort all executions"
          title="Abort every execution of the application?"
          confirmLabel="Abort everything"
          disabled={pending}
          onConfirm={() => abortAll()}
        >
          Every waiting execution of every user ends at once; running ones stop at their next step. This
          cannot be undone.
        </ConfirmButton>
      </div>
    </section>
  );
}

/** Dead letters: FAILED executions with their attempts history and Retry (the same execution again). */
export function DeadLetters({ failed }: { failed: DeadLetter[] }) {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [notice, setNotice] = useState<Notice>(null);

  function retry(id: number) {
    startTransition(async () => {
      const result = await retryExecutionAction({ id });
      setNotice(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
      router.refresh();
    });
  }

  return (
    <section className="stack" aria-labelledby="dead-letters-heading">
      <h2 id="dead-letters-heading">Failed executions</h2>
      <NoticeLine notice={notice} />
      {failed.length === 0 ? (
        <p className="muted">No failed executions.</p>
      ) : (
        <ul className="stack plain-list" aria-label="Failed executions">
          {failed.map((execution) => (
            <li key={execution.id} className="card stack" aria-label={`Failed execution ${execution.id}`}>
              <div className="toolbar">
                <Link href={`/executions/${execution.id}`}>{execution.id}</Link>
                <strong title={execution.chainName}>{execution.title || execution.chainName}</strong>
                <span>{execution.username}</span>
                <span className="muted small">
                  {execution.finishedAt ? formatDateTime(execution.finishedAt) : ""}
                </span>
                <button
                  type="button"
                  className="button button-small"
                  disabled={pending}
                  onClick={() => retry(execution.id)}
                  aria-label={`Retry execution ${execution.id}`}
                >
                  Retry
                </button>
              </div>
              <ol aria-label={`Attempts of execution ${execution.id}`} className="small">
                {execution.attemptLog.length === 0 ? <li>{execution.error ?? "Failed"}</li> : null}
                {execution.attemptLog.map((entry) => (
                  <li key={`${entry.attempt}-${entry.at}`}>
                    Attempt {entry.attempt}
                    {entry.step ? ` (${entry.step})` : ""}: {entry.error}
                  </li>
                ))}
              </ol>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
