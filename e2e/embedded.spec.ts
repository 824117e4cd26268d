import { expect, test } from "@playwright/test";
import { signIn } from "./support/fixtures";

// The server started exactly as the Quick start does: no DATABASE_URL, so the embedded PGlite database,
// migrated and seeded at start, with the in-process worker.
const embedded = process.env.E2E_EMBEDDED_URL ?? "http://localhost:3150";

test.use({ baseURL: embedded });

test("the embedded default serves the app and bo can sign in", async ({ page, request }) => {
  const health = await (await request.get("/api/health")).json();
  expect(health).toMatchObject({ ok: true, database: "pglite" });
  expect(health.workers.inProcess.consumers.map((c: { name: string }) => c.name)).toEqual(
    expect.arrayContaining(["push-sender", "executions"]),
  );
  await page.goto("/");
  await signIn(page, "bo");
  await expect(page.getByRole("heading", { name: "Welcome, Bo" })).toBeVisible();
  await page.goto("/reimbursements");
  await page.getByLabel("Amount").fill("12.34");
  await page.getByLabel("Receipt From").fill(`Embedded ${test.info().project.name}`);
  await page.getByRole("button", { name: "Submit" }).click();
  await expect(page.getByRole("status")).toHaveText("Reimbursement request submitted.");
  await expect(
    page.getByRole("row").filter({ hasText: `Embedded ${test.info().project.name}` }),
  ).toContainText("$12.34");
});
