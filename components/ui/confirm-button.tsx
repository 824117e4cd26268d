"use client";

import { type ReactNode, useId, useRef } from "react";

/**
 * A destructive action: a quiet button that asks first, in a dialog whose safe choice (Cancel) has the
 * focus and whose confirming button names the action again.
 */
export function ConfirmButton({
  label,
  title,
  confirmLabel = label,
  children,
  onConfirm,
  disabled,
  className = "",
  ariaLabel,
}: {
  label: string;
  title: string;
  confirmLabel?: string;
  /** What will be lost, in a sentence or two. */
  children: ReactNode;
  onConfirm: () => void;
  disabled?: boolean;
  className?: string;
  ariaLabel?: string;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  return (
    <>
      <button
        type="button"
        className={`button button-danger-quiet ${className}`}
        disabled={disabled}
        aria-label={ariaLabel}
        aria-haspopup="dialog"
        onClick={() => dialog.current?.showModal()}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-labelledby={titleId} className="confirm-dialog">
        <div className="stack">
          <h2 id={titleId}>{title}</h2>
          <div>{children}</div>
          <div className="dialog-actions">
            {/* biome-ignore lint/a11y/noAutofocus: the safe choice takes the focus in a confirmation. */}
            <button type="button" className="button" autoFocus onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button
              type="button"
              className="button button-danger"
              onClick={() => {
                dialog.current?.close();
                onConfirm();
              }}
            >
              {confirmLabel}
            </button>
          </div>
        </div>
      </dialog>
    </>
  );
}
