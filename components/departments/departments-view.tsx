"use client";

import type { ColumnDef } from "@tanstack/react-table";
import { useRouter } from "next/navigation";
import { useCallback, useMemo, useRef, useState, useTransition } from "react";
import {
  applyDepartmentChangesAction,
  deleteDepartmentAction,
  saveAndProcessAction,
} from "@/app/(app)/departments/actions";
import { ExecutionStatus } from "@/components/executions/execution-status";
import { ConfirmButton } from "@/components/ui/confirm-button";
import { DataTable } from "@/components/ui/data-table";
import { FieldError } from "@/components/ui/field-error";
import { useHoldLiveRefresh, useLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";

interface DepartmentRow {
  deptno: number;
  dname: string;
  loc: string;
}

type NoticeState = { ok: boolean; text: string } | null;

/** The departments table; a row opens the edit dialog (Cancel, Delete, Apply Changes, Process). */
export function DepartmentsView({
  departments,
  processing,
  hideProcessButton,
}: {
  departments: DepartmentRow[];
  processing: { deptno: number; username: string }[];
  hideProcessButton: boolean;
}) {
  const router = useRouter();
  const dialog = useRef<HTMLDialogElement>(null);
  const [editing, setEditing] = useState<DepartmentRow | null>(null);
  const [notice, setNotice] = useState<NoticeState>(null);
  /** The execution this user just started with Process: its live status shows under the notice. */
  const [started, setStarted] = useState<number | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Record<string, string[] | undefined>>({});
  const formRef = useRef<HTMLFormElement>(null);
  const [pending, startTransition] = useTransition();
  useHoldLiveRefresh(pending);
  const processedBy = useMemo(
    () => new Map(processing.map((row) => [row.deptno, row.username])),
    [processing],
  );

  // Who is processing what changes while the page is open.
  useLiveRefresh(2_000);

  const open = useCallback(
    (row: DepartmentRow) => {
      setEditing(row);
      setDialogError(null);
      setFieldErrors({});
      dialog.current?.showModal();
      router.refresh();
    },
    [router],
  );

  function submit(
    action: (
      input: unknown,
    ) => Promise<
      | { ok: true; message: string; executionId?: number }
      | { ok: false; error: string; fieldErrors?: Record<string, string[] | undefined> }
    >,
    form: HTMLFormElement,
  ) {
    const data = Object.fromEntries(new FormData(form));
    setDialogError(null);
    startTransition(async () => {
      const result = await action(data);
      if (result.ok) {
        dialog.current?.close();
        setNotice({ ok: true, text: result.message });
        if (result.executionId) setStarted(result.executionId);
      } else {
        setDialogError(result.error);
        setFieldErrors(result.fieldErrors ?? {});
      }
      router.refresh();
    });
  }

  const columns = useMemo<ColumnDef<DepartmentRow, unknown>[]>(
    () => [
      {
        accessorKey: "deptno",
        header: "Number",
        cell: ({ row }) => (
          <button
            type="button"
            className="link-button"
            onClick={() => open(row.original)}
            aria-label={`Edit department ${row.original.deptno}`}
          >
            {row.original.deptno}
          </button>
        ),
      },
      { accessorKey: "dname", header: "Name" },
      { accessorKey: "loc", header: "Location" },
      {
        id: "processing",
        header: "Processing by",
        accessorFn: (row) => processedBy.get(row.deptno) ?? "",
        cell: ({ row }) => {
          const by = processedBy.get(row.original.deptno);
          return by ? <span className="status tone-running">{by.toUpperCase()}</span> : "—";
        },
      },
    ],
    [processedBy, open],
  );

  const busyBy = editing ? processedBy.get(editing.deptno) : undefined;
  const showProcess = !(hideProcessButton && busyBy);

  return (
    <div className="stack">
      {notice ? <Notice tone={notice.ok ? "success" : "error"}>{notice.text}</Notice> : null}
      {started ? <ExecutionStatus key={started} id={started} onFinished={() => router.refresh()} /> : null}
      <DataTable
        caption="Departments"
        columns={columns}
        data={departments}
        getRowId={(row) => String(row.deptno)}
        emptyMessage="No departments."
      />
      <dialog
        ref={dialog}
        aria-labelledby="department-dialog-title"
        onClose={(event) => {
          // React passes a nested dialog's close (the Delete confirmation) up the tree: only this one counts.
          if (event.target === event.currentTarget) setEditing(null);
        }}
      >
        {editing ? (
          <form
            ref={formRef}
            key={editing.deptno}
            className="stack"
            noValidate
            onSubmit={(event) => {
              event.preventDefault();
              const submitter = (event.nativeEvent as SubmitEvent).submitter as HTMLButtonElement | null;
              submit(
                submitter?.value === "process" ? saveAndProcessAction : applyDepartmentChangesAction,
                event.currentTarget,
              );
            }}
          >
            <h2 id="department-dialog-title">Department {editing.deptno}</h2>
            {busyBy ? <p className="muted small">Being processed by {busyBy.toUpperCase()}.</p> : null}
            <input type="hidden" name="deptno" value={editing.deptno} />
            <label className="field">
              <span>Dname</span>
              <input
                name="dname"
                defaultValue={editing.dname}
                required
                maxLength={14}
                aria-invalid={fieldErrors.dname ? true : undefined}
                aria-describedby="dname-error"
              />
              <FieldError id="dname-error" messages={fieldErrors.dname} />
            </label>
            <label className="field">
              <span>Loc</span>
              <input
                name="loc"
                defaultValue={editing.loc}
                required
                maxLength={13}
                aria-invalid={fieldErrors.loc ? true : undefined}
                aria-describedby="loc-error"
              />
              <FieldError id="loc-error" messages={fieldErrors.loc} />
            </label>
            {dialogError ? <Notice tone="error">{dialogError}</Notice> : null}
            <div className="dialog-actions">
              <button type="button" className="button" onClick={() => dialog.current?.close()}>
                Cancel
              </button>
              <button type="submit" name="intent" value="apply" className="button" disabled={pending}>
                Apply Changes
              </button>
              {showProcess ? (
                <button
                  type="submit"
                  name="intent"
                  value="process"
                  className="button button-primary"
                  disabled={pending}
                >
                  Process
                </button>
              ) : null}
            </div>
            <div className="danger-zone">
              <ConfirmButton
                label="Delete"
                title={`Delete department ${editing.deptno}?`}
                confirmLabel="Delete department"
                disabled={pending}
                onConfirm={() => {
                  if (formRef.current) submit(deleteDepartmentAction, formRef.current);
                }}
              >
                <p>
                  {editing.dname} ({editing.loc}) is removed for everyone. This cannot be undone.
                </p>
              </ConfirmButton>
            </div>
          </form>
        ) : null}
      </dialog>
    </div>
  );
}
