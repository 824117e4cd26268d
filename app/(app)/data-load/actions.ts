"use server";

import { revalidatePath } from "next/cache";
import { z } from "zod";
import { type ActionResult, authorizedAction } from "@/lib/auth/action";
import { clearSales } from "@/lib/data-load/queries";

const clear = authorizedAction(
  {
    schema: z.object({
      confirm: z.literal("clear", { message: "Confirm that the sales data is to be cleared." }),
    }),
  },
  async (): Promise<ActionResult<{ message: string }>> => {
    const removed = await clearSales();
    revalidatePath("/data-load");
    return { ok: true, message: `Sales data cleared: ${removed.toLocaleString("en-US")} rows removed.` };
  },
);

/** "Clear data": empties the sales table (the loads' history stays). */
export async function clearSalesDataAction(input: unknown): Promise<ActionResult<{ message: string }>> {
  return clear(input);
}
