"use client";

import { useRef, useState, useTransition } from "react";
import { changePasswordAction, signOutEverywhereAction } from "@/app/(app)/settings/actions";
import { FieldError } from "@/components/ui/field-error";
import { Notice } from "@/components/ui/notice";

type Errors = Record<string, string[] | undefined>;

/** /settings: change the password (other sessions end) and sign out of every device. */
export function AccountSecurity() {
  const form = useRef<HTMLFormElement>(null);
  const [saving, startSaving] = useTransition();
  const [signingOut, startSigningOut] = useTransition();
  const [result, setResult] = useState<{ ok: boolean; text: string; fieldErrors?: Errors } | null>(null);
  const errors = result?.fieldErrors ?? {};

  function submit(formData: FormData) {
    startSaving(async () => {
      const outcome = await changePasswordAction(formData);
      if (outcome.ok) form.current?.reset();
      setResult(
        outcome.ok
          ? { ok: true, text: outcome.message }
          : { ok: false, text: outcome.error, fieldErrors: outcome.fieldErrors },
      );
    });
  }

  const field = (name: string, label: string, autoComplete: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        name={name}
        type="password"
        autoComplete={autoComplete}
        required
        maxLength={200}
        aria-invalid={Boolean(errors[name])}
        aria-describedby={`${name}-error`}
      />
      <FieldError id={`${name}-error`} messages={errors[name]} />
    </label>
  );

  return (
    <>
      <form ref={form} action={submit} className="card stack" noValidate>
        <h2>Change password</h2>
        {result ? <Notice tone={result.ok ? "success" : "error"}>{result.text}</Notice> : null}
        {field("currentPassword", "Current password", "current-password")}
        {field("newPassword", "New password", "new-password")}
        {field("confirmPassword", "Repeat new password", "new-password")}
        <p className="muted small">At least 8 characters. Your other sessions are signed out.</p>
        <button type="submit" className="button button-primary" disabled={saving}>
          {saving ? "Changing…" : "Change password"}
        </button>
      </form>
      <div className="card stack">
        <h2>Sessions</h2>
        <p className="muted">Signs you out here and on every other phone or computer.</p>
        <button
          type="button"
          className="button button-danger"
          disabled={signingOut}
          onClick={() =>
            startSigningOut(async () => void (await signOutEverywhereAction({ confirm: "everywhere" })))
          }
        >
          {signingOut ? "Signing out…" : "Sign out of all devices"}
        </button>
      </div>
    </>
  );
}
