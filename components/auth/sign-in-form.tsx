"use client";

import { useActionState } from "react";
import { type SignInState, signInAction } from "@/app/signin/actions";
import { FieldError } from "@/components/ui/field-error";
import { Notice } from "@/components/ui/notice";

export function SignInForm({ callbackUrl }: { callbackUrl: string }) {
  const [state, formAction, pending] = useActionState<SignInState, FormData>(signInAction, {});
  return (
    <form action={formAction} className="stack" noValidate>
      <input type="hidden" name="callbackUrl" value={callbackUrl} />
      {state.error ? <Notice tone="error">{state.error}</Notice> : null}
      <label className="field">
        <span>Username</span>
        <input
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          defaultValue={state.username}
          required
          maxLength={64}
          aria-invalid={Boolean(state.fieldErrors?.username)}
          aria-describedby="username-error"
        />
        <FieldError id="username-error" messages={state.fieldErrors?.username} />
      </label>
      <label className="field">
        <span>Password</span>
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          maxLength={200}
          aria-invalid={Boolean(state.fieldErrors?.password)}
          aria-describedby="password-error"
        />
        <FieldError id="password-error" messages={state.fieldErrors?.password} />
      </label>
      <label className="checkbox">
        <input type="checkbox" name="remember" defaultChecked={state.remember} />
        <span>Remember me</span>
      </label>
      <button type="submit" className="button button-primary" disabled={pending}>
        {pending ? "Signing in…" : "Sign In"}
      </button>
    </form>
  );
}
