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

test("on the embedded default the sample ZIP loads and a department is processed", async ({ page }) => {
  test.setTimeout(150_000);
  // Each project its own user and department: both run against the one embedded server.
  const phone = test.info().project.name === "phone";
  const [user, deptno] = phone ? ["bo", 30] : ["steve", 20];
  await page.goto("/signin?callbackUrl=%2Fdata-load");
  await signIn(page, user);
  await page.getByLabel("CSV or ZIP file").setInputFiles("public/samples/sales-10000.zip");
  await page.getByRole("button", { name: "Load Data" }).click();
  await expect(page.getByRole("status")).toHaveText('"sales-10000.zip" submitted for loading.');
  const load = page.getByRole("listitem", { name: /sales-10000\.zip/ }).first();
  await expect(load.getByText("10,000 rows processed · 10,000 loaded · 0 rejected")).toBeVisible({
    timeout: 90_000,
  });
  await expect(load.getByRole("alert")).toHaveCount(0);

  await page.goto("/departments");
  await page.getByRole("button", { name: `Edit department ${deptno}` }).click();
  const dialog = page.getByRole("dialog", { name: `Department ${deptno}` });
  await dialog.getByRole("button", { name: "Process" }).click();
  await expect(page.getByRole("status")).toHaveText(`Department ${deptno} submitted for processing.`);
  // A successful run is listed in the processing history with its department and user.
  await expect(async () => {
    await page.goto("/processing/history");
    await expect(page.getByText(`${deptno} · ${user.toUpperCase()}`).first()).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 60_000 });
});
