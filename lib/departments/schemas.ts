import { z } from "zod";

/** Shared by the edit dialog (hints) and the server actions (the real check). */
export const deptnoSchema = z.coerce
  .number({ message: "Choose a department." })
  .int({ message: "Choose a department." })
  .min(1, { message: "Choose a department." })
  .max(9999, { message: "Choose a department." });

const name = (label: string, max: number) =>
  z
    .string({ message: `${label} is required.` })
    .trim()
    .min(1, { message: `${label} is required.` })
    .max(max, { message: `${label} must be at most ${max} characters.` })
    .transform((value) => value.toUpperCase());

export const departmentSchema = z.object({
  deptno: deptnoSchema,
  dname: name("Dname", 14),
  loc: name("Loc", 13),
});
export type DepartmentInput = z.infer<typeof departmentSchema>;

export const deptnoOnlySchema = z.object({ deptno: deptnoSchema });

export const preferenceSchema = z.object({
  hideProcessButton: z.union([z.boolean(), z.enum(["true", "false"]).transform((value) => value === "true")]),
});
