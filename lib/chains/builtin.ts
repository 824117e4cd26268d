import { z } from "zod";
import { defineChain, type Step, type StepContext } from "./define";
import { sleep } from "./sleep";

const waitInput = z.object({
  /** Number of progress steps. */
  steps: z.number().int().min(0).max(10_000),
  /** Milliseconds per progress step. */
  stepMs: z.number().int().min(0).max(600_000),
  /** Fail with this message after the work (for tests of the FAILED path). */
  failWith: z.string().max(500).optional(),
  done: z.number().int().min(0).optional(),
  /** Set by the durable variant's first step: the attempt that ran it (a rerun must not run it again). */
  preparedInAttempt: z.number().int().min(1).optional(),
});
export type WaitInput = z.infer<typeof waitInput>;

const waitSteps: Step<WaitInput>[] = [
  {
    name: "Wait",
    async run(ctx: StepContext<WaitInput>) {
      const { steps, stepMs } = ctx.state;
      ctx.setProgress(0, steps);
      for (let done = 1; done <= steps; done++) {
        await sleep(stepMs, ctx.signal);
        ctx.throwIfAborted();
        ctx.setProgress(done, steps);
        ctx.setStatus(`${done} of ${steps} done`);
        ctx.state.done = done;
      }
    },
  },
  {
    name: "Finish",
    run(ctx: StepContext<WaitInput>) {
      if (ctx.state.failWith) throw new Error(ctx.state.failWith);
    },
  },
];

/**
 * Demo-free chains that only wait and report progress: the operator's smoke test of the background
 * machinery (and what the engine's tests, the e2e spec and the latency measurement run).
 */
export const waitChain = defineChain<WaitInput>({
  name: "system.wait",
  title: (input) => `Wait ${input.steps} × ${input.stepMs} ms`,
  label: "Wait and report progress",
  schema: waitInput,
  steps: waitSteps,
});
/**
 * The same, re-run after a dead worker, with a first step whose completion is saved: a rerun resumes at
 * "Wait" and keeps the attempt that ran "Prepare" (the SIGKILL test of durable steps reads it).
 */
export const retryableWaitChain = defineChain<WaitInput>({
  name: "system.wait-retryable",
  title: (input) => `Wait ${input.steps} × ${input.stepMs} ms (re-run after a crash)`,
  label: "Wait and report progress, re-run after a crash",
  schema: waitInput,
  retryable: true,
  steps: [
    {
      name: "Prepare",
      run(ctx: StepContext<WaitInput>) {
        ctx.state.preparedInAttempt = ctx.attempt;
      },
    },
    ...waitSteps,
  ],
});
