import "server-only";
import { type Database, getDb } from "@/db/client";
import { runInBackground } from "./background";
import { makeStepContext } from "./context";
import type { Chain, ChainUser } from "./define";
import { snapshotInput } from "./snapshot";
import { executeSteps } from "./steps";

export interface ForegroundOptions {
  user: ChainUser;
  sessionId?: string | null;
  signal?: AbortSignal;
  db?: Database;
  onProgress?: (sofar: number, totalwork: number | null) => void;
  onStatus?: (message: string) => void;
  /**
   * Run every step in one transaction (ctx.db is the transaction): a step that throws rolls back what the
   * steps before it wrote, and executions they enqueued (ctx.runInBackground) are not queued either.
   */
  transaction?: boolean;
}

/** Runs a chain inside the caller (a server action, say) and returns the final state. */
export async function runChain<S extends object>(
  chain: Chain<S>,
  input: S,
  options: ForegroundOptions,
): Promise<S> {
  const state = snapshotInput(chain, input);
  const run = (db: Database) =>
    executeSteps(
      chain,
      makeStepContext<S>({
        state,
        user: options.user,
        signal: options.signal ?? new AbortController().signal,
        db,
        executionId: null,
        sessionId: options.sessionId ?? null,
        attempt: 1,
        setProgress: (sofar, totalwork) => options.onProgress?.(sofar, totalwork ?? null),
        setStatus: (message) => options.onStatus?.(message),
      }),
    );
  const db = options.db ?? getDb();
  if (!options.transaction) return run(db);
  // A transaction is a database handle of its own kind: steps see it as ctx.db.
  return db.transaction((tx) => run(tx as unknown as Database));
}

/**
 * Starts a chain the way it is configured: in the background (`background: true`, returns the execution
 * id at once) or in the foreground (returns the final state).
 */
export async function startChain<S extends object>(
  chain: Chain<S>,
  input: S,
  options: ForegroundOptions,
): Promise<{ executionId: number } | { state: S }> {
  if (chain.background) {
    const executionId = await runInBackground(chain, input, {
      user: options.user,
      session: options.sessionId,
      db: options.db,
    });
    return { executionId };
  }
  return { state: await runChain(chain, input, options) };
}
