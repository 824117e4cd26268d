import { describe, expect, it } from "vitest";
import { idSchema } from "@/lib/id-schema";
import { endpointSchema } from "@/lib/push/subscriptions";
import { approvalFiltersSchema, decisionSchema } from "@/lib/reimbursements/schemas";

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
