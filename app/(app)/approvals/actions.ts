"use server";

import { revalidatePath } from "next/cache";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { DecisionError, decideReimbursement } from "@/lib/reimbursements/queries";
import { decisionSchema } from "@/lib/reimbursements/schemas";

export const decideAction = authorizedAction(
  { role: "approver", schema: decisionSchema },
  async ({ taskId, decision }, user): Promise<ActionResult<{ message: string }>> => {
    try {
      const result = await decideReimbursement({ taskId, decision, approver: user });
      revalidatePath("/approvals");
      return { ok: true, message: result.message };
    } catch (error) {
      if (error instanceof DecisionError) {
        revalidatePath("/approvals");
        return { ok: false, error: error.message };
      }
      throw error;
    }
  },
);
