"use client";

import { useActionState, useState } from "react";
import { type SubmitState, submitReimbursementAction } from "@/app/(app)/reimbursements/actions";
import { FieldError } from "@/components/ui/field-error";
import { useHoldLiveRefresh } from "@/components/ui/live-refresh";
import { Notice } from "@/components/ui/notice";

export function ReimbursementForm({ initialToken }: { initialToken: string }) {
  const [state, formAction, pending] = useActionState<SubmitState, FormData>(submitReimbursementAction, {});
  // The first token is kept: the page re-renders live (a new initialToken each time) and must not reset
  // what the user is typing.
  const [firstToken] = useState(initialToken);
  const token = state.nextToken ?? firstToken;
  useHoldLiveRefresh(pending);
  // A new key after each attempt re-applies the kept values (React resets a submitted form).
  const formKey = `${token}-${state.ok ? "ok" : JSON.stringify(state.values ?? {})}`;
  return (
    <form key={formKey} action={formAction} className="card stack" noValidate aria-labelledby="new-heading">
      <h2 id="new-heading">New Reimbursement</h2>
      {state.ok && state.message ? <Notice tone="success">{state.message}</Notice> : null}
      {state.error ? <Notice tone="error">{state.error}</Notice> : null}
      <input type="hidden" name="clientToken" value={token} />
      <div className="form-row">
        <label className="field">
          <span>Amount</span>
          <div className="input-prefix">
            <span aria-hidden="true">$</span>
            <input
              name="amount"
              inputMode="decimal"
              autoComplete="off"
              defaultValue={state.values?.amount}
              maxLength={16}
              required
              aria-invalid={Boolean(state.fieldErrors?.amount)}
              aria-describedby="amount-hint amount-error"
            />
          </div>
          <span className="hint" id="amount-hint">
            In dollars and cents, for example 59.95
          </span>
          <FieldError id="amount-error" messages={state.fieldErrors?.amount} />
        </label>
        <label className="field">
          <span>Receipt From</span>
          <input
            name="receiptFrom"
            autoComplete="off"
            defaultValue={state.values?.receiptFrom}
            maxLength={100}
            required
            aria-invalid={Boolean(state.fieldErrors?.receiptFrom)}
            aria-describedby="receipt-hint receipt-error"
          />
          <span className="hint" id="receipt-hint">
            The shop or company on the receipt
          </span>
          <FieldError id="receipt-error" messages={state.fieldErrors?.receiptFrom} />
        </label>
      </div>
      <div>
        <button type="submit" className="button button-primary" disabled={pending}>
          {pending ? "Submitting…" : "Submit"}
        </button>
      </div>
    </form>
  );
}
