import type { z } from "zod";
import type { Database } from "@/db/client";
import { ChainInputError } from "./errors";
import { RETRYABLE_ATTEMPTS, type RetryPolicy } from "./retry";

/** JSON values only: the state of a background execution is stored as jsonb and read back. */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

/** Who runs the chain: the state's snapshot of the caller, independent of later actions. */
export interface ChainUser {
  id: number;
  username: string;
}

/** Who runs system executions (schedules): stored without a user; only administrators see them. */
export const SYSTEM_USER: ChainUser = Object.freeze({ id: 0, username: "system" });

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
  /** 1 for the first run; a retry or a rerun after a dead worker counts up. */
  attempt: number;
  /** Database of the process running the step (the worker's pool in the background). */
  db: Database;
  /** Cheap to call often: writes are coalesced. */
  setProgress(sofar: number, totalwork?: number): void;
  setStatus(message: string): void;
  /** Files copied or moved into this execution (empty in the foreground or with fileHandling "ignore"). */
  files(): Promise<ExecutionFileContent[]>;
  /** Starts another chain in the background as a child of this execution; returns its id at once. */
  runInBackground<T extends object>(chain: Chain<T>, input: T): Promise<number>;
  /**
   * Starts `chain` as a child execution (its serialize, limits and file settings apply) and waits for its
   * final state; throws ChildExecutionError when it FAILED or was ABORTED. While waiting, this execution
   * holds no slot of any limit, so a parent and its child never deadlock (even with a limit of 1).
   */
  runChild<T extends object>(chain: Chain<T>, input: T): Promise<T>;
  /** Throws the abort reason when the execution was aborted. */
  throwIfAborted(): void;
}

export interface ExecutionFileContent {
  name: string;
  contentType: string;
  size: number;
  content: Buffer;
}

/** A run-time condition on the chain's state; async ones may read the database through `ctx.db`. */
export type Condition<S> = (state: Readonly<S>, ctx: StepContext<S>) => boolean | Promise<boolean>;

export interface Step<S> {
  kind?: "step";
  name: string;
  /** Evaluated at run time on the current state (may read the database): the step runs when it holds. */
  when?: Condition<S>;
  /** Changes `ctx.state` in place or returns the next state. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a step may return nothing (it changed ctx.state).
  run: (ctx: StepContext<S>) => void | S | Promise<void | S>;
}

/** See ChainOptions.serialize. */
export type SerializeMode<S> = boolean | "session" | "chain" | { key: (input: Readonly<S>) => string };

export type FileHandling = "ignore" | "copy" | "move";

export interface ChainOptions<S> {
  /** Stable code id (the registry key, stored with each execution). */
  name: string;
  /**
   * What people read on every page instead of the code id: a text, or made from the input
   * ("Process department 20"). Default: the name.
   */
  title?: string | ((input: Readonly<S>) => string);
  /**
   * The chain itself in a few words, where a page names the chain rather than one of its executions (its
   * limit on /admin/executions): "Process a department in the background". Default: `title` when it is a
   * text, else the name.
   */
  label?: string;
  steps: readonly (Step<S> | Chain<S>)[];
  /** For nested chains: run this chain only when the condition holds at run time. */
  when?: Condition<S>;
  /**
   * Run in the background when started with `startChain` (APEX's "Execute in Background"). A nested chain
   * with `background: true` becomes a child execution (parent_id) with the parent's state as its input,
   * instead of running inline; the parent goes on at once.
   */
  background?: boolean;
  /** Validates the input (and the stored state a worker reads back). */
  schema?: z.ZodType<S>;
  /**
   * One execution at a time: per user session (`true` or "session"), for the whole chain ("chain"), or per
   * key made from the input (`{ key: (input) => string }`, e.g. one per department). Across all processes.
   */
  serialize?: SerializeMode<S>;
  /**
   * With `serialize`, what an enqueue does while another execution of the same scope is waiting or running:
   * "wait" (default) queues it behind; "error" refuses with a ChainBusyError naming who runs it.
   */
  whenRunning?: "wait" | "error";
  /** Refuses more than this many unfinished executions of this chain per session. */
  executionsLimit?: number;
  /** At most this many executions of this chain run at once across all workers. */
  maxConcurrent?: number;
  /** At most this many executions of this chain run at once per user (the others wait, ENQUEUED). */
  maxConcurrentPerUser?: number;
  /** What happens to an uploaded file handed to runInBackground. Default "ignore". */
  fileHandling?: FileHandling;
  /**
   * Run again when the worker running it died (instead of ending FAILED): up to 3 attempts, resuming after
   * the last completed step. A `retry` policy implies it (with its own maxAttempts).
   */
  retryable?: boolean;
  /** Try again after a step throws, with exponential backoff; each attempt's error is kept. */
  retry?: RetryPolicy;
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
  const attempts = options.retry?.maxAttempts;
  if (attempts !== undefined && (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)) {
    throw new Error(`Chain "${options.name}": retry.maxAttempts must be a whole number from 1 to 100`);
  }
  for (const [key, value] of [
    ["executionsLimit", options.executionsLimit],
    ["maxConcurrent", options.maxConcurrent],
    ["maxConcurrentPerUser", options.maxConcurrentPerUser],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`Chain "${options.name}": ${key} must be a whole number of at least 1`);
    }
  }
  const serialize = options.serialize;
  if (
    serialize !== undefined &&
    typeof serialize !== "boolean" &&
    serialize !== "session" &&
    serialize !== "chain" &&
    typeof (serialize as { key?: unknown })?.key !== "function"
  ) {
    throw new Error(
      `Chain "${options.name}": serialize must be true, "session", "chain" or { key: (input) => string }`,
    );
  }
  if (options.whenRunning !== undefined && !["wait", "error"].includes(options.whenRunning)) {
    throw new Error(`Chain "${options.name}": whenRunning must be "wait" or "error"`);
  }
  if (options.whenRunning === "error" && !serialize) {
    throw new Error(`Chain "${options.name}": whenRunning "error" needs a serialize mode`);
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

/** Attempts an execution of `chain` gets in all (worker deaths and, with a retry policy, step errors). */
export function maxAttemptsOf(chain: AnyChain): number {
  return chain.retry?.maxAttempts ?? (chain.retryable ? RETRYABLE_ATTEMPTS : 1);
}

/**
 * The scope an execution of `chain` is serialized in (executions of the chain with the same value run one at
 * a time), or null when the chain is not serialized. Throws ChainInputError for a key function's bad answer.
 */
export function serializeKeyOf<S>(chain: Chain<S>, input: S, session: string): string | null {
  const mode = chain.serialize;
  if (!mode) return null;
  if (mode === true || mode === "session") return `session:${session}`;
  if (mode === "chain") return "chain";
  let key: unknown;
  try {
    key = mode.key(input);
  } catch (error) {
    throw new ChainInputError(chain.name, [`serialize key: ${(error as Error).message}`]);
  }
  if (typeof key !== "string" || key.length === 0 || key.length > 200) {
    throw new ChainInputError(chain.name, ["serialize key must be a text of 1 to 200 characters"]);
  }
  return `key:${key}`;
}

/** The human title of an execution of `chain` with `input` (never empty; at most 200 characters). */
export function titleOf<S>(chain: Chain<S>, input: S): string {
  let title: string = chain.name;
  try {
    const made = typeof chain.title === "function" ? chain.title(input) : chain.title;
    if (made?.trim()) title = made.trim();
  } catch {
    // A title function that fails on odd input must not stop the work: the code id stands in.
  }
  return title.slice(0, 200);
}

/** What pages call the chain itself (not one execution): its label, a text title, or its name. */
export function labelOf<S>(chain: Chain<S>): string {
  const label = chain.label?.trim() || (typeof chain.title === "string" ? chain.title.trim() : "");
  return (label || chain.name).slice(0, 200);
}

/** The chain registered under `name`, if its module was imported in this process. */
export function getChain(name: string): AnyChain | undefined {
  return registry.get(name);
}

export function registeredChainNames(): string[] {
  return [...registry.keys()].sort();
}
