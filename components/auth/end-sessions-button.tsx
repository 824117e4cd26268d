"use client";

import { useState, useTransition } from "react";
import { endUserSessionsAction } from "@/app/(app)/admin/users/actions";

/** An administrator's "End sessions" for one user, with its outcome announced. */
export function EndSessionsButton({ userId, username }: { userId: number; username: string }) {
  const [pending, start] = useTransition();
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <div className="stack">
      <button
        type="button"
        className="button button-danger button-small"
        disabled={pending}
        aria-label={`End all sessions of ${username}`}
        onClick={() =>
          start(async () => {
            const result = await endUserSessionsAction({ userId });
            setMessage(result.ok ? { ok: true, text: result.message } : { ok: false, text: result.error });
          })
        }
      >
        {pending ? "Ending…" : "End sessions"}
      </button>
      {message ? (
        <p role="status" className={`small ${message.ok ? "" : "field-error"}`}>
          {message.text}
        </p>
      ) : null}
    </div>
  );
}
