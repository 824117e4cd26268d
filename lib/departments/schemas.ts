import { z } from "zod";
import { singleLineText } from "@/lib/text";

/** Shared by the edit dialog (hints) and the server actions (the real check). */
export const deptnoSchema = z.coerce
  .number({ message: "Choose a department." })
  .int({ message: "Choose a department." })
  .min(1, { message: "Choose a department." })
  .max(9999, { message: "Choose a department." });

/** Stored upper-case: the limit is checked on that form (control characters refused first). */
const name = (label: string, max: number) =>
  singleLineText({ label, max, transform: (value) => value.toUpperCase() });

export const departmentSchema = z.object({
  deptno: deptnoSchema,
  dname: name("Dname", 14),
  loc: name("Loc", 13),
});

export const deptnoOnlySchema = z.object({ deptno: deptnoSchema });

export const preferenceSchema = z.object({
  hideProcessButton: z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]),
});
