import type { z } from "zod";
import type { Database } from "@/db/client";

/** JSON values only: the state of a background execution is stored as jsonb and read back. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Who runs the chain: the state's snapshot of the caller, independent of later actions. */
export interface ChainUser {
  id: number;
  username: string;
}

export interface StepContext<S> {
  /** The shared state: steps read and change it; background executions persist it at each step. */
  state: S;
  user: ChainUser;
  /** Aborted when the user or an admin aborts the execution (or its worker stops). */
  signal: AbortSignal;
  /** Id of the background execution, or null when the chain runs in the foreground. */
  executionId: number | null;
  /** The session the chain was started from. */
  sessionId: string | null;
  /** Database of the process running the step (the worker's pool in the background). */
  db: Database;
  /** Cheap to call often: writes are coalesced. */
  setProgress(sofar: number, totalwork?: number): void;
  setStatus(message: string): void;
  /** Files copied or moved into this execution (empty in the foreground or with fileHandling "ignore"). */
  files(): Promise<ExecutionFileContent[]>;
  /** Starts another chain in the background as a child of this execution; returns its id at once. */
  runInBackground<T extends object>(chain: Chain<T>, input: T): Promise<number>;
  /** Throws the abort reason when the execution was aborted. */
  throwIfAborted(): void;
}

export interface ExecutionFileContent {
  name: string;
  contentType: string;
  size: number;
  content: Buffer;
}

export interface Step<S> {
  kind?: "step";
  name: string;
  /** Evaluated at run time on the current state: the step runs only when it answers true. */
  when?: (state: Readonly<S>) => boolean;
  /** Changes `ctx.state` in place or returns the next state. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a step may return nothing (it changed ctx.state).
  run: (ctx: StepContext<S>) => void | S | Promise<void | S>;
}

export type FileHandling = "ignore" | "copy" | "move";

export interface ChainOptions<S> {
  name: string;
  steps: readonly (Step<S> | Chain<S>)[];
  /** For nested chains: run this chain only when the condition holds at run time. */
  when?: (state: Readonly<S>) => boolean;
  /** Run in the background when started with `startChain` (APEX's "Execute in Background"). */
  background?: boolean;
  /** Validates the input (and the stored state a worker reads back). */
  schema?: z.ZodType<S>;
  /** One execution of this chain at a time per user session. */
  serialize?: boolean;
  /** Refuses more than this many unfinished executions of this chain per session. */
  executionsLimit?: number;
  /** At most this many executions of this chain run at once across all workers. */
  maxConcurrent?: number;
  /** What happens to an uploaded file handed to runInBackground. Default "ignore". */
  fileHandling?: FileHandling;
  /** Re-run from the start when the worker running it died (instead of ending FAILED). */
  retryable?: boolean;
}

export interface Chain<S> extends Readonly<Omit<ChainOptions<S>, "steps">> {
  readonly kind: "chain";
  readonly steps: readonly (Step<S> | Chain<S>)[];
  /** Leaf steps in definition order; a step's sequence is its position here (1-based). */
  readonly leafSteps: readonly Step<S>[];
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds chains of every state type.
type AnyChain = Chain<any>;

const globalForChains = globalThis as unknown as { __executionChains?: Map<string, AnyChain> };
globalForChains.__executionChains ??= new Map();
const registry = globalForChains.__executionChains;

function collectLeaves<S>(steps: readonly (Step<S> | Chain<S>)[], into: Step<S>[] = []): Step<S>[] {
  for (const step of steps) {
    if (step.kind === "chain") collectLeaves(step.steps, into);
    else into.push(step);
  }
  return into;
}

const NAME = /^[A-Za-z0-9][\w.:-]{0,99}$/;

/**
 * Defines a chain and registers it by name, so a worker process that imported the module can run it.
 * Nested chains are defined the same way and placed among the steps of their parent.
 */
export function defineChain<S extends object>(options: ChainOptions<S>): Chain<S> {
  if (!NAME.test(options.name)) throw new Error(`Invalid chain name "${options.name}"`);
  if (options.steps.length === 0) throw new Error(`Chain "${options.name}" has no steps`);
  for (const [key, value] of [
    ["executionsLimit", options.executionsLimit],
    ["maxConcurrent", options.maxConcurrent],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`Chain "${options.name}": ${key} must be a whole number of at least 1`);
    }
  }
  const chain: Chain<S> = Object.freeze({
    ...options,
    kind: "chain" as const,
    steps: Object.freeze([...options.steps]),
    leafSteps: Object.freeze(collectLeaves(options.steps)),
  });
  // Re-defining a name (module reload in development) replaces the previous definition.
  registry.set(chain.name, chain);
  return chain;
}

/** The chain registered under `name`, if its module was imported in this process. */
export function getChain(name: string): AnyChain | undefined {
  return registry.get(name);
}

export function registeredChainNames(): string[] {
  return [...registry.keys()].sort();
}
