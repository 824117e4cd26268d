"use server";

import { revalidatePath } from "next/cache";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { getSessionId } from "@/lib/auth/guards";
import { runChain } from "@/lib/chains";
import { type SaveAndProcessState, saveAndProcess } from "@/lib/departments/chains";
import { deleteDepartment, updateDepartment } from "@/lib/departments/queries";
import { departmentSchema, deptnoOnlySchema } from "@/lib/departments/schemas";

type Result = ActionResult<{ message: string; executionId?: number }>;

function revalidate() {
  revalidatePath("/departments");
  revalidatePath("/processing/status");
}

const saveAndProcessDepartment = authorizedAction(
  { schema: departmentSchema },
  async (input, user): Promise<Result> => {
    const state = await runChain<SaveAndProcessState>(saveAndProcess, input, {
      user: { id: user.id, username: user.username },
      sessionId: await getSessionId(),
    });
    revalidate();
    if (state.error || !state.message)
      return { ok: false, error: state.error ?? "Processing did not start." };
    return { ok: true, message: state.message, executionId: state.executionId };
  },
);

const applyDepartmentChanges = authorizedAction(
  { schema: departmentSchema },
  async (input): Promise<Result> => {
    const updated = await updateDepartment(input);
    revalidate();
    return updated
      ? { ok: true, message: `Department ${input.deptno} saved.` }
      : { ok: false, error: `Department ${input.deptno} does not exist any more.` };
  },
);

const removeDepartment = authorizedAction(
  { schema: deptnoOnlySchema },
  async ({ deptno }): Promise<Result> => {
    const outcome = await deleteDepartment({ deptno });
    revalidate();
    switch (outcome) {
      case "deleted":
        return { ok: true, message: `Department ${deptno} deleted.` };
      case "processing":
        return {
          ok: false,
          error: `Department ${deptno} is being processed; delete it when processing has finished.`,
        };
      default:
        return { ok: false, error: `Department ${deptno} does not exist any more.` };
    }
  },
);

/** "Process": the Save and Process chain (save the changes, then process in the background). */
export async function saveAndProcessAction(input: unknown): Promise<Result> {
  return saveAndProcessDepartment(input);
}

/** "Apply Changes". */
export async function applyDepartmentChangesAction(input: unknown): Promise<Result> {
  return applyDepartmentChanges(input);
}

/** "Delete". */
export async function deleteDepartmentAction(input: unknown): Promise<Result> {
  return removeDepartment(input);
}
