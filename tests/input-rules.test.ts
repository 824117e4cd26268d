import { describe, expect, it } from "vitest";
import { z } from "zod";
import { salesRowSchema } from "@/lib/data-load/rules";
import { departmentSchema } from "@/lib/departments/schemas";
import { idSchema } from "@/lib/id-schema";
import { endpointSchema } from "@/lib/push/subscriptions";
import { approvalFiltersSchema, decisionSchema } from "@/lib/reimbursements/schemas";
import { singleLineText } from "@/lib/text";

describe("input rules found by the bad-input suite", () => {
  it("ids are positive integers or their digits, nothing coerced", () => {
    for (const good of [1, "7", " 42 ", 2_147_483_647]) expect(idSchema().safeParse(good).success).toBe(true);
    for (const bad of [
      true,
      false,
      null,
      "",
      " ",
      [1],
      {},
      -1,
      0,
      "-5",
      1.5,
      "1.5",
      "1e3",
      Number.NaN,
      "NaN",
    ]) {
      expect(idSchema().safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    // Past PostgreSQL's integer: refused here instead of failing in the query.
    expect(idSchema().safeParse(2_147_483_648).success).toBe(false);
    expect(idSchema().safeParse("99999999999").success).toBe(false);
    expect(decisionSchema.safeParse({ taskId: true, decision: "approve" }).success).toBe(false);
  });

  it("text that reaches PostgreSQL has no NUL or other control characters", () => {
    expect(endpointSchema.safeParse("https://fcm.googleapis.com/fcm/send/a\u0000b").success).toBe(false);
    expect(endpointSchema.safeParse("https://fcm.googleapis.com/fcm/send/ab").success).toBe(true);
    expect(approvalFiltersSchema.parse({ q: "Joe\u0000" }).q).toBe("");
    expect(approvalFiltersSchema.parse({ q: "Joe's" }).q).toBe("Joe's");
  });
});

describe("one-line text fields (SPEC H9)", () => {
  const fieldErrors = (input: unknown) => {
    const parsed = departmentSchema.safeParse(input);
    return parsed.success ? {} : z.flattenError(parsed.error).fieldErrors;
  };

  it("refuse NUL, newlines and other control characters with a field error", () => {
    for (const bad of ["RE\u0000SEARCH", "TWO\nLINES", "CR\rLF", "TAB\tBED", "ESC\u001b[31m", "DEL\u007f"]) {
      expect(fieldErrors({ deptno: 10, dname: bad, loc: "DALLAS" }).dname, JSON.stringify(bad)).toEqual([
        "Dname must be one line without control characters.",
      ]);
      expect(fieldErrors({ deptno: 10, dname: "OK", loc: bad }).loc).toEqual([
        "Loc must be one line without control characters.",
      ]);
    }
  });

  it("check the limit on the stored (trimmed, upper-cased) form", () => {
    expect(departmentSchema.parse({ deptno: 10, dname: "  research  ", loc: "dallas" })).toEqual({
      deptno: 10,
      dname: "RESEARCH",
      loc: "DALLAS",
    });
    // 14 letters that upper-case to 28 ("ß" → "SS"): too long for the column, refused with the limit.
    expect(fieldErrors({ deptno: 10, dname: "ß".repeat(14), loc: "X" }).dname).toEqual([
      "Dname must be at most 14 characters.",
    ]);
    expect(departmentSchema.safeParse({ deptno: 10, dname: "ß".repeat(7), loc: "X" }).success).toBe(true);
    expect(fieldErrors({ deptno: 10, dname: "   ", loc: "X" }).dname).toEqual(["Dname is required."]);
  });

  it("upload file names too", () => {
    const name = singleLineText({ label: "The file name", max: 200 });
    expect(name.safeParse("sales\u0000.csv").success).toBe(false);
    expect(name.safeParse("sales\n.csv").success).toBe(false);
    expect(name.parse(" sales.csv ")).toBe("sales.csv");
  });

  it("rows of a sales file with control characters are rejected, not sent to the database", () => {
    const row = {
      region: "Europe",
      country: "Ger\u0000many",
      itemType: "Cereal",
      salesChannel: "Online",
      orderPriority: "H",
      unitsSold: "1",
      unitPriceCents: "1.00",
      unitCostCents: "0.50",
      totalProfitCents: "0.50",
    };
    expect(salesRowSchema.safeParse(row).success).toBe(false);
    expect(salesRowSchema.safeParse({ ...row, country: "Germany" }).success).toBe(true);
  });
});
