import "server-only";
import { type Database, getDb } from "@/db/client";
import type { Chain, ChainUser, Step, StepContext } from "./define";
import { ChainAbortedError, ChainInputError } from "./errors";

export interface StepHooks<S> {
  /** Called before a step runs (after its condition held), with its 1-based sequence in the chain. */
  beforeStep?(step: Step<S>, sequence: number, state: S): void | Promise<void>;
  afterStep?(step: Step<S>, sequence: number, state: S): void | Promise<void>;
}

/** Parses the input against the chain's schema and returns a deep, JSON-only snapshot of it. */
export function snapshotInput<S extends object>(chain: Chain<S>, input: unknown): S {
  let json: unknown;
  try {
    json = JSON.parse(JSON.stringify(input));
  } catch (error) {
    throw new ChainInputError(chain.name, [`not JSON-serialisable (${(error as Error).message})`]);
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new ChainInputError(chain.name, ["must be an object"]);
  }
  if (!chain.schema) return json as S;
  const parsed = chain.schema.safeParse(json);
  if (!parsed.success) {
    throw new ChainInputError(
      chain.name,
      parsed.error.issues.map((issue) => `${issue.path.join(".") || "input"}: ${issue.message}`),
    );
  }
  return parsed.data;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason = signal.reason;
  throw reason instanceof ChainAbortedError
    ? reason
    : new ChainAbortedError(reason instanceof Error ? reason.message : "Aborted");
}

/**
 * Runs the steps of `chain` in order on `ctx.state`: conditions are evaluated on the state as it is when
 * the step (or nested chain) is reached, and an abort is honoured at every step boundary.
 */
export async function executeSteps<S>(
  chain: Chain<S>,
  ctx: StepContext<S>,
  hooks: StepHooks<S> = {},
): Promise<S> {
  const sequenceOf = new Map(chain.leafSteps.map((step, index) => [step, index + 1]));
  async function walk(items: Chain<S>["steps"]): Promise<void> {
    for (const item of items) {
      if (item.when && !item.when(ctx.state)) continue;
      if (item.kind === "chain") {
        await walk(item.steps);
        continue;
      }
      throwIfAborted(ctx.signal);
      const sequence = sequenceOf.get(item) ?? 0;
      await hooks.beforeStep?.(item, sequence, ctx.state);
      const next = await item.run(ctx);
      if (next !== undefined) ctx.state = next;
      throwIfAborted(ctx.signal);
      await hooks.afterStep?.(item, sequence, ctx.state);
    }
  }
  await walk(chain.steps);
  return ctx.state;
}

export interface ForegroundOptions {
  user: ChainUser;
  sessionId?: string | null;
  signal?: AbortSignal;
  db?: Database;
  onProgress?: (sofar: number, totalwork: number | null) => void;
  onStatus?: (message: string) => void;
}

/** Runs a chain inside the caller (a server action, say) and returns the final state. */
export async function runChain<S extends object>(
  chain: Chain<S>,
  input: S,
  options: ForegroundOptions,
): Promise<S> {
  const signal = options.signal ?? new AbortController().signal;
  const db = options.db ?? getDb();
  const ctx: StepContext<S> = {
    state: snapshotInput(chain, input),
    user: { id: options.user.id, username: options.user.username },
    signal,
    executionId: null,
    sessionId: options.sessionId ?? null,
    db,
    setProgress: (sofar, totalwork) => options.onProgress?.(sofar, totalwork ?? null),
    setStatus: (message) => options.onStatus?.(message),
    files: async () => [],
    async runInBackground(child, childInput) {
      const { runInBackground } = await import("./background");
      return runInBackground(child, childInput, {
        user: options.user,
        session: options.sessionId ?? `user:${options.user.id}`,
        db,
      });
    },
    throwIfAborted: () => throwIfAborted(signal),
  };
  return executeSteps(chain, ctx);
}

/**
 * Starts a chain the way it is configured: in the background (`background: true`, returns the execution
 * id at once) or in the foreground (returns the final state).
 */
export async function startChain<S extends object>(
  chain: Chain<S>,
  input: S,
  options: ForegroundOptions & { sessionId?: string | null },
): Promise<{ executionId: number } | { state: S }> {
  if (chain.background) {
    const { runInBackground } = await import("./background");
    const executionId = await runInBackground(chain, input, {
      user: options.user,
      session: options.sessionId,
      db: options.db,
    });
    return { executionId };
  }
  return { state: await runChain(chain, input, options) };
}
