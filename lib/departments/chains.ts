import "server-only";
import { z } from "zod";
import {
  ChainAbortedError,
  defineChain,
  ExecutionLimitError,
  runInBackground,
  type StepContext,
  sleep,
} from "@/lib/chains";
import { getEnv } from "@/lib/env";
import { sendPushNotification } from "@/lib/push/send";
import {
  attachExecution,
  getDepartment,
  getProcessingUser,
  PROCESS_IN_BACKGROUND_CHAIN,
  registerProcessing,
  SAVE_AND_PROCESS_CHAIN,
  unregisterProcessing,
  updateDepartment,
} from "./queries";
import { departmentSchema } from "./schemas";

/** Progress steps of processing a department (APEX's demo: ten). */
export const PROCESSING_STEPS = 10;

export const alreadyProcessedMessage = (deptno: number, username: string) =>
  `Department ${deptno} is already being processed by ${username.toUpperCase()}`;
export const submittedMessage = (deptno: number) => `Department ${deptno} submitted for processing.`;

/** How long processing takes: DEPARTMENT_PROCESSING_SECONDS, else a random 60–100 s as in the demo. */
export function processingSeconds(): number {
  return getEnv().DEPARTMENT_PROCESSING_SECONDS ?? 60 + Math.floor(Math.random() * 41);
}

// ---------------------------------------------------------------------------------------------------
// Process Department in Background: add the execution id → process (10 steps) → unregister.

const processInput = z.object({
  deptno: z.number().int().positive(),
  seconds: z.number().positive().max(3600),
  /** Fault tests only: fail with an error after this progress step. */
  failAfterStep: z.number().int().min(0).max(10).optional(),
});
export type ProcessDepartmentState = z.infer<typeof processInput>;

/** The pushes that tell the starter how the processing ended; a tap opens the processing history. */
export const completionNotice = (deptno: number, outcome: "processed" | "failed" | "aborted") =>
  ({
    processed: { title: `Department ${deptno} processed`, body: "The background processing finished." },
    failed: {
      title: `Department ${deptno} processing failed`,
      body: "The background processing stopped with an error. You can process it again.",
    },
    aborted: {
      title: `Department ${deptno} processing aborted`,
      body: "The background processing was aborted. You can process it again.",
    },
  })[outcome];

/** Frees the department and notifies the starter, in one transaction: no push without the change. */
async function unregisterExecution(
  ctx: StepContext<ProcessDepartmentState>,
  outcome: "processed" | "failed" | "aborted" = "processed",
): Promise<void> {
  await ctx.db.transaction(async (tx) => {
    await unregisterProcessing(
      { deptno: ctx.state.deptno, userId: ctx.user.id, executionId: ctx.executionId },
      tx,
    );
    await sendPushNotification(
      {
        userName: ctx.user.username,
        ...completionNotice(ctx.state.deptno, outcome),
        targetUrl: "/processing/history",
      },
      tx,
    );
  });
}

export const processDepartmentInBackground = defineChain<ProcessDepartmentState>({
  name: PROCESS_IN_BACKGROUND_CHAIN,
  title: (input) => `Process department ${input.deptno}`,
  label: "Process a department in the background",
  schema: processInput,
  // One employee processing many departments takes at most two slots; the others wait for theirs (E9).
  maxConcurrentPerUser: 2,
  steps: [
    {
      name: "Add the execution id to the tracking row",
      async run(ctx) {
        if (ctx.executionId === null) throw new Error("Process Department runs in the background only");
        const attached = await attachExecution(
          { deptno: ctx.state.deptno, userId: ctx.user.id, executionId: ctx.executionId },
          ctx.db,
        );
        if (!attached) throw new Error(`Department ${ctx.state.deptno} is not registered for this execution`);
      },
    },
    {
      name: "Process the department",
      async run(ctx) {
        const stepMs = (ctx.state.seconds * 1000) / PROCESSING_STEPS;
        try {
          ctx.setProgress(0, PROCESSING_STEPS);
          ctx.setStatus(`Processing department ${ctx.state.deptno}`);
          for (let step = 1; step <= PROCESSING_STEPS; step++) {
            await sleep(stepMs, ctx.signal);
            ctx.throwIfAborted();
            ctx.setProgress(step, PROCESSING_STEPS);
            ctx.setStatus(`Step ${step} of ${PROCESSING_STEPS} done`);
            if (ctx.state.failAfterStep === step) throw new Error(`Processing failed after step ${step}`);
          }
        } catch (error) {
          // Failed or aborted: the department is free again at once.
          await unregisterExecution(ctx, error instanceof ChainAbortedError ? "aborted" : "failed");
          throw error;
        }
      },
    },
    { name: "Unregister", run: (ctx) => unregisterExecution(ctx) },
  ],
});

// ---------------------------------------------------------------------------------------------------
// Save and Process (foreground, inside the server action).

export interface SaveAndProcessState {
  deptno: number;
  dname: string;
  loc: string;
  /** Seconds the background processing takes (DEPARTMENT_PROCESSING_SECONDS when not given). */
  seconds?: number;
  /** Fault tests only (see processDepartmentInBackground). */
  failAfterStep?: number;
  processedBy?: string;
  registered?: boolean;
  executionId?: number;
  error?: string;
  message?: string;
}

const saveAndProcessInput = departmentSchema.extend({
  seconds: z.number().positive().max(3600).optional(),
  failAfterStep: z.number().int().min(0).max(10).optional(),
  processedBy: z.string().optional(),
  registered: z.boolean().optional(),
  executionId: z.number().int().optional(),
  error: z.string().optional(),
  message: z.string().optional(),
}) as z.ZodType<SaveAndProcessState>;

const ok = (state: Readonly<SaveAndProcessState>) => !state.error;

export const saveAndProcess = defineChain<SaveAndProcessState>({
  name: SAVE_AND_PROCESS_CHAIN,
  title: (input) => `Save and process department ${input.deptno}`,
  label: "Save and process a department",
  schema: saveAndProcessInput,
  steps: [
    {
      name: "Look up the department",
      async run({ state, db }) {
        if (!(await getDepartment({ deptno: state.deptno }, db))) {
          state.error = `Department ${state.deptno} does not exist.`;
        }
      },
    },
    {
      name: "Check whether the department is already being processed",
      when: ok,
      async run({ state, db }) {
        state.processedBy = (await getProcessingUser({ deptno: state.deptno }, db)) ?? undefined;
      },
    },
    {
      name: "Report that it is already being processed",
      when: (state) => state.processedBy !== undefined,
      run({ state }) {
        state.error = alreadyProcessedMessage(state.deptno, state.processedBy ?? "");
      },
    },
    defineChain<SaveAndProcessState>({
      name: `${SAVE_AND_PROCESS_CHAIN}.available`,
      label: "Save and process a department: its part when the department is free",
      when: (state) => ok(state) && state.processedBy === undefined,
      steps: [
        {
          name: "Register the department for processing",
          async run({ state, user, db }) {
            const outcome = await registerProcessing({ deptno: state.deptno, userId: user.id }, db);
            if (outcome.registered) state.registered = true;
            else {
              state.processedBy = outcome.holder;
              state.error = alreadyProcessedMessage(state.deptno, outcome.holder);
            }
          },
        },
        {
          name: "Save the department",
          when: ok,
          async run({ state, db }) {
            try {
              if (!(await updateDepartment(state, db)))
                state.error = `Department ${state.deptno} does not exist.`;
            } catch (error) {
              // Whatever failed, the registration is undone below: the department never stays locked.
              console.error(`[departments] saving department ${state.deptno} failed`, error);
              state.error = `Department ${state.deptno} could not be saved. Try again in a moment.`;
            }
          },
        },
        {
          name: "Run Process Department in Background",
          when: ok,
          async run(ctx) {
            const { state, user, db, sessionId } = ctx;
            try {
              // Enqueue and note the execution id in one transaction: the registration never points nowhere.
              state.executionId = await db.transaction(async (tx) => {
                const id = await runInBackground(
                  processDepartmentInBackground,
                  {
                    deptno: state.deptno,
                    seconds: state.seconds ?? processingSeconds(),
                    failAfterStep: state.failAfterStep,
                  },
                  { user, session: sessionId },
                  tx,
                );
                await attachExecution({ deptno: state.deptno, userId: user.id, executionId: id }, tx);
                return id;
              });
            } catch (error) {
              if (error instanceof ChainAbortedError) throw error;
              // The user sees a plain sentence; driver or SQL text goes to the log only.
              if (!(error instanceof ExecutionLimitError)) {
                console.error(`[departments] submitting department ${state.deptno} failed`, error);
              }
              state.error =
                error instanceof ExecutionLimitError
                  ? error.message
                  : `Department ${state.deptno} could not be submitted for processing. Try again in a moment.`;
            }
          },
        },
        {
          name: "Unregister (the processing did not start)",
          when: (state) => state.registered === true && state.executionId === undefined,
          async run({ state, user, db }) {
            await unregisterProcessing({ deptno: state.deptno, userId: user.id }, db);
          },
        },
        {
          name: "Report submitted",
          when: (state) => state.executionId !== undefined,
          run({ state }) {
            state.message = submittedMessage(state.deptno);
          },
        },
      ],
    }),
  ],
});
