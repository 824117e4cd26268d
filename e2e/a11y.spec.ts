import AxeBuilder from "@axe-core/playwright";
import { expect, type Page, test } from "@playwright/test";
import { signIn } from "./support/fixtures";

/** Every page an administrator can open (the widest view), plus the signed-out and refusal pages. */
const PAGES = [
  "/",
  "/reimbursements",
  "/approvals",
  "/departments",
  "/processing/status",
  "/processing/history",
  "/data-load",
  "/executions",
  "/admin/push-queue",
  "/admin/subscriptions",
  "/admin/executions",
  "/settings",
  "/settings/push",
];

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.slice(0, 3).map((node) => node.target.join(" ")),
    }));
}

for (const colorScheme of ["light", "dark"] as const) {
  test.describe(`accessibility (${colorScheme})`, () => {
    test.use({ colorScheme });

    test.describe.configure({ timeout: 90_000 });

    test("the sign-in page", async ({ page }) => {
      await page.goto("/signin");
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);
    });

    // One administrator session visits every page (signing in once per page only cost time).
    test("every page as an administrator", async ({ page }) => {
      test.setTimeout(240_000);
      await page.goto("/signin");
      await signIn(page, "admin");
      const found: Record<string, Awaited<ReturnType<typeof seriousViolations>>> = {};
      for (const path of PAGES) {
        await page.goto(path);
        await expect(page.getByRole("heading", { level: 1 }), path).toBeVisible();
        const violations = await seriousViolations(page);
        if (violations.length > 0) found[path] = violations;
        if (path === "/") {
          // The user menu, open.
          await page.getByLabel(/^User menu for/).click();
          const menu = await seriousViolations(page);
          if (menu.length > 0) found["/ (user menu)"] = menu;
        }
      }
      expect(found).toEqual({});
    });

    test("a claim's detail page", async ({ page }) => {
      const receipt = `Axe ${colorScheme} ${test.info().project.name}`;
      await page.goto("/signin?callbackUrl=%2Freimbursements");
      await signIn(page, "admin");
      await page.getByLabel("Amount").fill("4.20");
      await page.getByLabel("Receipt From").fill(receipt);
      await page.getByRole("button", { name: "Submit" }).click();
      await expect(page.getByRole("status")).toHaveText("Reimbursement request submitted.");
      await page.getByRole("row").filter({ hasText: receipt }).getByRole("link").first().click();
      await expect(page.getByRole("heading", { name: /^Reimbursement \d+$/, level: 1 })).toBeVisible();
      expect(await seriousViolations(page)).toEqual([]);
    });

    test("the refusal and not-found pages", async ({ page }) => {
      await page.goto("/signin");
      await signIn(page, "bo");
      const refused = await page.goto("/admin/push-queue");
      expect(refused?.status()).toBe(403);
      await expect(page.getByRole("heading", { name: "Not allowed", level: 1 })).toBeVisible();
      await expect(page.locator("main")).toHaveCount(1);
      expect(await seriousViolations(page), "403").toEqual([]);
      await page.goto("/no-such-page");
      await expect(page.getByRole("heading", { name: "Not found", level: 1 })).toBeVisible();
      expect(await seriousViolations(page), "404").toEqual([]);
    });
  });
}

test("a skip link leads past the navigation to the content", async ({ page }) => {
  await page.goto("/signin");
  await signIn(page, "bo");
  await page.goto("/reimbursements");
  await page.keyboard.press("Tab");
  const skip = page.getByRole("link", { name: "Skip to content" });
  await expect(skip).toBeFocused();
  await expect(skip).toBeInViewport();
  await page.keyboard.press("Enter");
  await expect(page.locator("main#main")).toBeFocused();
});
