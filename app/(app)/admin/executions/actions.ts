"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import {
  abortAllExecutions,
  getExecutionLimits,
  type LimitChanges,
  MAX_LIMIT_SETTING,
  retryExecution,
  setExecutionLimits,
} from "@/lib/chains";
import { idSchema } from "@/lib/id-schema";

const LIMIT_MESSAGE = `Enter a whole number from 0 to ${MAX_LIMIT_SETTING}, or leave it empty for the default.`;

/** A limit field: empty = the default (null), else 0 … MAX_LIMIT_SETTING (0 holds everything). */
const limitField = z
  .string({ message: LIMIT_MESSAGE })
  .trim()
  .refine((value) => value === "" || (/^\d{1,5}$/.test(value) && Number(value) <= MAX_LIMIT_SETTING), {
    message: LIMIT_MESSAGE,
  })
  .transform((value) => (value === "" ? null : Number(value)));

const CHAIN_FIELD = /^chain:[A-Za-z0-9][\w.:-]{0,99}$/;
const chainName = z.string().regex(/^[A-Za-z0-9][\w.:-]{0,99}$/, { message: "Choose a chain." });

const limitsSchema = z
  .object({ app: limitField, perUser: limitField })
  .catchall(limitField)
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (key !== "app" && key !== "perUser" && !CHAIN_FIELD.test(key)) {
        ctx.addIssue({ code: "custom", path: [key], message: "Unknown setting." });
      }
    }
  });

const saveLimits = authorizedAction(
  { role: "admin", schema: limitsSchema },
  async (input, user): Promise<ActionResult<{ message: string }>> => {
    const known = new Set((await getExecutionLimits()).chains.map((chain) => chain.chainName));
    const changes: LimitChanges = { app: input.app, perUser: input.perUser, chains: {} };
    for (const [key, value] of Object.entries(input)) {
      if (!key.startsWith("chain:")) continue;
      const name = key.slice("chain:".length);
      if (!known.has(name)) {
        return {
          ok: false,
          error: "Please correct the highlighted fields.",
          fieldErrors: { [key]: ["This chain is not known here."] },
        };
      }
      changes.chains![name] = value as number | null;
    }
    await setExecutionLimits(changes, { by: user.username });
    revalidatePath("/admin/executions");
    return { ok: true, message: "Limits saved. Every worker applies them within 2 seconds." };
  },
);

/** An administrator changes the runtime limits (application-wide, per user, per chain). */
export async function saveExecutionLimitsAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return saveLimits(input);
}

const abortAll = authorizedAction(
  {
    role: "admin",
    schema: z.object({ chainName: chainName.optional(), confirm: z.literal("abort-all") }),
  },
  async ({ chainName: name }): Promise<ActionResult<{ message: string }>> => {
    const { aborted, abortRequested } = await abortAllExecutions({ chainName: name });
    revalidatePath("/admin/executions");
    revalidatePath("/executions");
    const total = aborted + abortRequested;
    return {
      ok: true,
      message:
        total === 0
          ? "Nothing was waiting or running."
          : `${aborted} waiting ${aborted === 1 ? "execution" : "executions"} aborted; ${abortRequested} running ${abortRequested === 1 ? "execution stops" : "executions stop"} at the next step.`,
    };
  },
);

/** An administrator aborts every waiting and running execution of a chain, or of the application. */
export async function abortAllExecutionsAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return abortAll(input);
}

const retry = authorizedAction(
  { role: "admin", schema: z.object({ id: idSchema("Choose an execution.") }) },
  async ({ id }): Promise<ActionResult<{ message: string }>> => {
    const outcome = await retryExecution({ id });
    switch (outcome) {
      case "not_found":
        return { ok: false, error: `Execution ${id} was not found.` };
      case "not_failed":
        return { ok: false, error: `Execution ${id} has not failed (any more).` };
      case "busy":
        return { ok: false, error: `Execution ${id} cannot run again: a newer one with its key is active.` };
      default:
        revalidatePath("/admin/executions");
        return { ok: true, message: `Execution ${id} queued again; it resumes at the step that failed.` };
    }
  },
);

/** Dead letters: an administrator runs a FAILED execution again. */
export async function retryExecutionAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return retry(input);
}
