import type { Chain, Step, StepContext } from "./define";
import { ChainAbortedError } from "./errors";

export interface StepHooks<S> {
  /** Called before a step runs (after its condition held), with its 1-based sequence in the chain. */
  beforeStep?(step: Step<S>, sequence: number, state: S): void | Promise<void>;
  /** Called after a step completed, with the state it left. */
  afterStep?(step: Step<S>, sequence: number, state: S): void | Promise<void>;
}

export function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const reason = signal.reason;
  throw reason instanceof ChainAbortedError
    ? reason
    : new ChainAbortedError(reason instanceof Error ? reason.message : "Aborted");
}

/**
 * Runs the steps of `chain` in order on `ctx.state`: conditions (which may be async) are evaluated on the
 * state as it is when the step (or nested chain) is reached, and an abort is honoured at every step
 * boundary. `completedThrough` resumes a rerun: leaf steps up to that sequence completed before and are
 * skipped, and a nested chain entered before is entered again without asking its condition.
 */
export async function executeSteps<S>(
  chain: Chain<S>,
  ctx: StepContext<S>,
  hooks: StepHooks<S> = {},
  completedThrough = 0,
): Promise<S> {
  const sequenceOf = new Map(chain.leafSteps.map((step, index) => [step, index + 1]));
  const firstOf = (item: Chain<S>) => sequenceOf.get(item.leafSteps[0]!) ?? 0;
  const lastOf = (item: Chain<S>) => sequenceOf.get(item.leafSteps[item.leafSteps.length - 1]!) ?? 0;
  async function walk(items: Chain<S>["steps"]): Promise<void> {
    for (const item of items) {
      if (item.kind === "chain") {
        if (lastOf(item) <= completedThrough) continue;
        const enteredBefore = firstOf(item) <= completedThrough;
        if (!enteredBefore && item.when && !(await item.when(ctx.state, ctx))) continue;
        if (item.background) {
          // A child execution with the state as its input; completed (for a rerun) once it is enqueued.
          throwIfAborted(ctx.signal);
          await ctx.runInBackground(item as unknown as Chain<object>, ctx.state as S & object);
          await hooks.afterStep?.(item.leafSteps[item.leafSteps.length - 1]!, lastOf(item), ctx.state);
          continue;
        }
        await walk(item.steps);
        continue;
      }
      const sequence = sequenceOf.get(item) ?? 0;
      if (sequence <= completedThrough) continue;
      if (item.when && !(await item.when(ctx.state, ctx))) continue;
      throwIfAborted(ctx.signal);
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
