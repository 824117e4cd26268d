"use server";

import { randomUUID } from "node:crypto";
import { revalidatePath } from "next/cache";
import { authorizedAction } from "@/lib/auth/action";
import { submitReimbursement } from "@/lib/reimbursements/queries";
import { newReimbursementSchema } from "@/lib/reimbursements/schemas";

export interface SubmitState {
  ok?: boolean;
  message?: string;
  error?: string;
  fieldErrors?: Record<string, string[] | undefined>;
  /** What was typed, so a refused form keeps it. */
  values?: { amount: string; receiptFrom: string };
  /** A fresh token for the next request once this one went through. */
  nextToken?: string;
}

const submit = authorizedAction({ schema: newReimbursementSchema }, async (input, user) => {
  const { id } = await submitReimbursement({ user, input });
  revalidatePath("/reimbursements");
  revalidatePath("/approvals");
  return { ok: true, id };
});

export async function submitReimbursementAction(
  _previous: SubmitState,
  formData: FormData,
): Promise<SubmitState> {
  // A server action is a public endpoint: its argument is whatever the caller sent.
  if (!(formData instanceof FormData)) return { ok: false, error: "Fill in the form and submit it again." };
  const values = {
    amount: String(formData.get("amount") ?? "").slice(0, 64),
    receiptFrom: String(formData.get("receiptFrom") ?? "").slice(0, 200),
  };
  const result = await submit({
    amount: formData.get("amount"),
    receiptFrom: formData.get("receiptFrom"),
    clientToken: formData.get("clientToken"),
  });
  if (!result.ok) return { ok: false, error: result.error, fieldErrors: result.fieldErrors, values };
  return { ok: true, message: "Reimbursement request submitted.", nextToken: randomUUID() };
}
