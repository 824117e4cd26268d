import { z } from "zod";
import { idSchema } from "@/lib/id-schema";
import { hasControlCharacters } from "@/lib/text";
import { parseAmount } from "./money";

/** Shared by the form (hints) and the server action (the real check). */
export const newReimbursementSchema = z.object({
  amount: z
    .string({ message: "Enter the amount." })
    .max(32, { message: "Enter the amount as a number with at most two decimals, such as 59.95." })
    .transform((value, ctx) => {
      const parsed = parseAmount(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: "custom", message: parsed.error });
        return z.NEVER;
      }
      return parsed.cents;
    }),
  receiptFrom: z
    .string({ message: "Enter who the receipt is from." })
    .trim()
    .min(1, { message: "Enter who the receipt is from." })
    .max(100, { message: "Receipt From is at most 100 characters." })
    .refine((value) => !hasControlCharacters(value), {
      message: "Receipt From contains control characters.",
    }),
  clientToken: z.uuid({ message: "The form expired. Reload the page and try again." }),
});

export const decisionSchema = z.object({
  taskId: idSchema("Choose a task."),
  decision: z.enum(["approve", "reject"], { message: "The decision must be approve or reject." }),
});

export const approvalFiltersSchema = z.object({
  q: z
    .string()
    .trim()
    .max(100)
    .refine((value) => !hasControlCharacters(value))
    .catch(""),
  expired: z.enum(["1"]).optional().catch(undefined),
  sort: z.enum(["due", "-due"]).catch("due"),
});

export type NewReimbursement = z.output<typeof newReimbursementSchema>;
export type Decision = z.output<typeof decisionSchema>["decision"];
