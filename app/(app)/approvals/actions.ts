"use server";

import { revalidatePath } from "next/cache";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { DecisionError, decideReimbursement } from "@/lib/reimbursements/queries";
import { decisionSchema } from "@/lib/reimbursements/schemas";

const decide = authorizedAction(
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

/** Approve or Reject a claim in the approver's queue. */
export async function decideAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return decide(input);
}
