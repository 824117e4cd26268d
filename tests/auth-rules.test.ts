import { describe, expect, it } from "vitest";
import { safeCallbackUrl, signInPath } from "@/lib/auth/callback-url";
import { hasRole } from "@/lib/auth/roles";
import { navItemsFor } from "@/lib/navigation";

describe("safeCallbackUrl", () => {
  it("keeps same-site paths with their query and hash", () => {
    expect(safeCallbackUrl("/reimbursements/42?from=push#top")).toBe("/reimbursements/42?from=push#top");
  });

  it.each([
    ["https://evil.example/", "absolute URL"],
    ["//evil.example/path", "protocol-relative URL"],
    ["/\\evil.example", "backslash trick"],
    ["javascript:alert(1)", "script URL"],
    ["/ok\nLocation: x", "control characters"],
    ["", "empty"],
    [42, "not a string"],
    [`/${"a".repeat(3000)}`, "overlong"],
    ["/..//evil.example/x", "dot segments normalising to //host"],
    ["/./\\evil.example", "dot segment then backslash"],
    ["/a/..//evil.example", "parent segment then //host"],
    ["/%2e%2e//evil.example", "encoded dot segments"],
    ["/x/../\\evil.example", "parent segment then backslash"],
  ] as [unknown, string][])("falls back to / for %s (%s)", (value) => {
    expect(safeCallbackUrl(value)).toBe("/");
  });

  it("never returns a value a browser would read as another host", () => {
    const pieces = ["/", "//", "\\", ".", "..", "%2e", "%2f", "%5c", "evil.example", "@", ":", "?", "#"];
    const samples: string[] = [];
    for (const a of pieces) for (const b of pieces) for (const c of pieces) samples.push(`/${a}${b}${c}`);
    for (const sample of samples) {
      const target = safeCallbackUrl(sample);
      expect(new URL(target, "https://app.example").host, `${sample} -> ${target}`).toBe("app.example");
      expect(target.startsWith("//") || target.startsWith("/\\"), `${sample} -> ${target}`).toBe(false);
    }
  });

  it("builds the sign-in path that comes back here", () => {
    expect(signInPath("/approvals?q=joe")).toBe("/signin?callbackUrl=%2Fapprovals%3Fq%3Djoe");
    expect(signInPath("/")).toBe("/signin");
  });
});

describe("roles", () => {
  it("nest admin ⊇ approver ⊇ employee", () => {
    expect(hasRole("admin", "approver")).toBe(true);
    expect(hasRole("approver", "employee")).toBe(true);
    expect(hasRole("employee", "approver")).toBe(false);
    expect(hasRole("approver", "admin")).toBe(false);
  });

  it("decide which destinations each role sees", () => {
    const hrefs = (role: Parameters<typeof navItemsFor>[0]) => navItemsFor(role).map((item) => item.href);
    expect(hrefs("employee")).toContain("/reimbursements");
    expect(hrefs("employee")).not.toContain("/approvals");
    expect(hrefs("approver")).toContain("/approvals");
    expect(hrefs("approver")).not.toContain("/admin/push-queue");
    expect(hrefs("admin")).toEqual(
      expect.arrayContaining(["/admin/push-queue", "/admin/executions", "/approvals"]),
    );
  });
});
