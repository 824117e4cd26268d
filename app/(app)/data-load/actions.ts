"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { hasRole } from "@/lib/auth/roles";
import { clearSales } from "@/lib/data-load/queries";

const clear = authorizedAction(
  {
    schema: z.object({
      confirm: z.literal("clear", { message: "Confirm that the sales data is to be cleared." }),
    }),
  },
  async (_input, user): Promise<ActionResult<{ message: string }>> => {
    const everybody = hasRole(user.role, "admin");
    const removed = await clearSales({ userId: everybody ? "all" : user.id });
    revalidatePath("/data-load");
    const rows = `${removed.toLocaleString("en-US")} rows removed`;
    return {
      ok: true,
      message: everybody ? `Sales data cleared: ${rows}.` : `Your loaded sales data cleared: ${rows}.`,
    };
  },
);

/** "Clear data": the user's own loaded rows, or all of them for an administrator (history stays). */
export async function clearSalesDataAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return clear(input);
}
