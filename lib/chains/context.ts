import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { runInBackground } from "./background";
import type { Chain, ChainUser, ExecutionFileContent, StepContext } from "./define";
import { ChildExecutionError } from "./errors";
import { sleep } from "./sleep";
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
  /** Background only: marks this execution as waiting for a child (true) or running again (false). */
  awaitingChild?: (waiting: boolean) => Promise<void>;
}

/** Waits until execution `id` is final (reading its status, 50 ms growing to 1 s apart); its final state. */
async function awaitExecution<T>(db: Database, id: number, chain: Chain<T>, signal: AbortSignal): Promise<T> {
  let wait = 50;
  for (;;) {
    throwIfAborted(signal);
    const [row] = await queryRows<{ status: string; state: unknown; error: string | null }>(
      db,
      sql`select status::text as status, state, error from executions where id = ${id}`,
    );
    if (!row) throw new ChildExecutionError(id, chain.name, "ABORTED", "it was deleted");
    if (row.status === "SUCCESS") return row.state as T;
    if (row.status === "FAILED" || row.status === "ABORTED") {
      throw new ChildExecutionError(id, chain.name, row.status, row.error);
    }
    await sleep(wait, signal);
    wait = Math.min(1_000, wait * 2);
  }
}

/**
 * The one factory of the helpers handed to a step, for foreground and background runs alike (as
 * graphile-worker's makeJobHelpers): the only differences are passed in.
 */
export function makeStepContext<S>(parts: StepContextParts<S>): StepContext<S> {
  const { user, signal, db, executionId } = parts;
  const session = parts.sessionId ?? `user:${user.id}`;
  const childOptions = () => ({
    user,
    session,
    parentId: executionId ?? undefined,
    filesFrom: executionId ?? undefined,
    db,
  });
  /** Children being awaited now: the slot is given back while there is at least one. */
  let awaiting = 0;
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
    runInBackground: (child, input) => runInBackground(child, input, childOptions()),
    async runChild(child, input) {
      // Give the slot back first, so the child (woken by its own enqueue) may take it.
      if (awaiting++ === 0) await parts.awaitingChild?.(true);
      try {
        const id = await runInBackground(child, input, childOptions());
        return await awaitExecution(db, id, child, signal);
      } finally {
        if (--awaiting === 0) await parts.awaitingChild?.(false);
      }
    },
    throwIfAborted: () => throwIfAborted(signal),
  };
}
