"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { abortExecution } from "@/lib/chains";
import { idSchema } from "@/lib/id-schema";
import { executionViewer } from "@/lib/users/execution-viewer";

const abortSchema = z.object({
  id: idSchema("Choose an execution."),
});

const abort = authorizedAction(
  { schema: abortSchema },
  async ({ id }, user): Promise<ActionResult<{ message: string }>> => {
    const outcome = await abortExecution({ id, by: executionViewer(user) });
    switch (outcome) {
      case "not_found":
        return { ok: false, error: `Execution ${id} was not found.` };
      case "finished":
        return { ok: false, error: `Execution ${id} has already finished.` };
      default:
        revalidatePath("/executions");
        revalidatePath("/admin/executions");
        return {
          ok: true,
          message:
            outcome === "aborted"
              ? `Execution ${id} aborted.`
              : `Abort requested: execution ${id} stops at its next step.`,
        };
    }
  },
);

/** Aborts one of the user's executions (an admin: anyone's). */
export async function abortExecutionAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return abort(input);
}
