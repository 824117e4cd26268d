import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ChainAbortedError, ChainInputError, defineChain, getChain, runChain } from "@/lib/chains";

const user = { id: 1, username: "bo" };

interface DeptState {
  deptno: number;
  processingBy: string | null;
  log: string[];
}

const notify = defineChain<DeptState>({
  name: "test.fg.notify",
  when: (state) => state.processingBy === null,
  steps: [
    {
      name: "Mark",
      run: ({ state, user }) => {
        state.processingBy = user.username;
      },
    },
    { name: "Tell", run: ({ state }) => void state.log.push(`processing ${state.deptno}`) },
  ],
});

const processDepartment = defineChain<DeptState>({
  name: "test.fg.process",
  steps: [
    {
      name: "Already being processed",
      when: (state) => state.processingBy !== null,
      run: ({ state }) => void state.log.push(`already by ${state.processingBy}`),
    },
    notify,
    // A step returning a new state replaces it.
    { name: "Finish", run: ({ state }) => ({ ...state, log: [...state.log, "finished"] }) },
  ],
});

describe("execution chains in the foreground", () => {
  it("runs steps in order, evaluating each condition on the state as it is at that point", async () => {
    const available = await runChain(
      processDepartment,
      { deptno: 20, processingBy: null, log: [] },
      { user },
    );
    expect(available).toEqual({ deptno: 20, processingBy: "bo", log: ["processing 20", "finished"] });

    const busy = await runChain(processDepartment, { deptno: 20, processingBy: "steve", log: [] }, { user });
    expect(busy.log).toEqual(["already by steve", "finished"]);
  });

  it("numbers leaf steps through nested chains and registers every chain by name", () => {
    expect(processDepartment.leafSteps.map((step) => step.name)).toEqual([
      "Already being processed",
      "Mark",
      "Tell",
      "Finish",
    ]);
    expect(getChain("test.fg.process")).toBe(processDepartment);
    expect(getChain("test.fg.notify")).toBe(notify);
  });

  it("works on a snapshot: the caller's object is not changed", async () => {
    const input = { deptno: 10, processingBy: null, log: [] as string[] };
    await runChain(processDepartment, input, { user });
    expect(input).toEqual({ deptno: 10, processingBy: null, log: [] });
  });

  it("validates the input against the chain's schema with a clear error", async () => {
    const typed = defineChain<{ count: number }>({
      name: "test.fg.typed",
      schema: z.object({ count: z.number().int().min(1) }),
      steps: [{ name: "Noop", run: () => {} }],
    });
    await expect(runChain(typed, { count: 0 }, { user })).rejects.toThrow(ChainInputError);
    await expect(runChain(typed, { count: 0 }, { user })).rejects.toThrow(/count: Too small/);
  });

  it("reports progress and stops at the next step boundary after an abort", async () => {
    const controller = new AbortController();
    const progress: number[] = [];
    const ran: string[] = [];
    const chain = defineChain<{ n: number }>({
      name: "test.fg.abort",
      steps: [
        {
          name: "One",
          run: (ctx) => {
            ran.push("One");
            ctx.setProgress(1, 2);
            controller.abort(); // the step ignores the signal and finishes
          },
        },
        { name: "Two", run: () => void ran.push("Two") },
      ],
    });
    const run = runChain(
      chain,
      { n: 1 },
      { user, signal: controller.signal, onProgress: (s) => progress.push(s) },
    );
    await expect(run).rejects.toBeInstanceOf(ChainAbortedError);
    expect(ran).toEqual(["One"]);
    expect(progress).toEqual([1]);
  });

  it("refuses bad definitions", () => {
    expect(() => defineChain({ name: "bad name!", steps: [{ name: "x", run: () => {} }] })).toThrow(
      /Invalid chain name/,
    );
    expect(() => defineChain({ name: "test.fg.empty", steps: [] })).toThrow(/has no steps/);
    expect(() =>
      defineChain({ name: "test.fg.limit", executionsLimit: 0, steps: [{ name: "x", run: () => {} }] }),
    ).toThrow(/executionsLimit must be a whole number/);
  });
});
