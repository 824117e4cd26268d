import { z } from "zod";
import { hasControlCharacters } from "@/lib/text";

/** Limits of an upload, shared by the form (hints) and the server (the real check). */
export const MAX_UPLOAD_BYTES = 8 * 1024 * 1024;
/** What a ZIP may unpack to: a small ZIP that inflates to gigabytes (a zip bomb) is refused. */
export const MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;
export const ACCEPTED_EXTENSIONS = [".csv", ".zip"] as const;

/** Columns of a sales file, in the usual order; header names match case- and space-insensitively. */
export const SALES_COLUMNS = [
  "Region",
  "Country",
  "Item Type",
  "Sales Channel",
  "Order Priority",
  "Units Sold",
  "Unit Price",
  "Unit Cost",
  "Total Profit",
] as const;

export const formatBytes = (bytes: number) =>
  bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MB`
    : `${Math.ceil(bytes / 1024)} KB`;

const text = (label: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${label} is empty` })
    .max(100, { message: `${label} is longer than 100 characters` })
    // A NUL (or any control character) would fail in PostgreSQL: the row is rejected, the load goes on.
    .refine((value) => !hasControlCharacters(value), { message: `${label} contains control characters` });

/** Decimal amount with at most two decimals, to integer cents. */
const cents = (label: string, { negative = false } = {}) =>
  z
    .string()
    .trim()
    .regex(negative ? /^-?\d{1,12}(\.\d{1,2})?$/ : /^\d{1,12}(\.\d{1,2})?$/, {
      message: `${label} is not ${negative ? "an" : "a positive"} amount with at most 2 decimals`,
    })
    .transform((value) => {
      const sign = value.startsWith("-") ? -1 : 1;
      const [whole = "0", fraction = ""] = value.replace("-", "").split(".");
      return sign * (Number(whole) * 100 + Number(fraction.padEnd(2, "0")));
    });

export const salesRowSchema = z.object({
  region: text("Region"),
  country: text("Country"),
  itemType: text("Item Type"),
  salesChannel: z.enum(["Online", "Offline"], { message: "Sales Channel must be Online or Offline" }),
  orderPriority: z.enum(["H", "M", "L", "C"], { message: "Order Priority must be H, M, L or C" }),
  unitsSold: z
    .string()
    .trim()
    .regex(/^\d{1,9}$/, { message: "Units Sold is not a whole number" })
    .transform(Number),
  unitPriceCents: cents("Unit Price"),
  unitCostCents: cents("Unit Cost"),
  totalProfitCents: cents("Total Profit", { negative: true }),
});
export type SalesRow = z.infer<typeof salesRowSchema>;

/** The reason a CSV record is refused, in words, naming the offending value. */
export function describeIssues(error: z.ZodError, record: Record<string, string>): string {
  return error.issues
    .map((issue) => {
      const value = (record[String(issue.path[0] ?? "")] ?? "").trim();
      return value ? `${issue.message} (found "${value.slice(0, 40)}")` : issue.message;
    })
    .join("; ");
}
