import type { Database } from "@/db/client";
import { runInBackground } from "./background";
import type { ChainUser, ExecutionFileContent, StepContext } from "./define";
import { throwIfAborted } from "./steps";

export interface StepContextParts<S> {
  state: S;
  user: ChainUser;
  signal: AbortSignal;
  db: Database;
  /** The background execution, or null in the foreground. */
  executionId: number | null;
  sessionId: string | null;
  /** 1 for the first run; retries and reruns after a dead worker count up. */
  attempt: number;
  setProgress?: (sofar: number, totalwork?: number) => void;
  setStatus?: (message: string) => void;
  files?: () => Promise<ExecutionFileContent[]>;
}

/**
 * The one factory of the helpers handed to a step, for foreground and background runs alike (as
 * graphile-worker's makeJobHelpers): the only differences are passed in.
 */
export function makeStepContext<S>(parts: StepContextParts<S>): StepContext<S> {
  const { user, signal, db, executionId } = parts;
  const session = parts.sessionId ?? `user:${user.id}`;
  return {
    state: parts.state,
    user: { id: user.id, username: user.username },
    signal,
    executionId,
    sessionId: parts.sessionId,
    attempt: parts.attempt,
    db,
    setProgress: (sofar, totalwork) => parts.setProgress?.(sofar, totalwork),
    setStatus: (message) => parts.setStatus?.(message),
    files: parts.files ?? (async () => []),
    runInBackground: (child, input) =>
      runInBackground(child, input, { user, session, parentId: executionId ?? undefined, db }),
    throwIfAborted: () => throwIfAborted(signal),
  };
}
