import { expect, test } from "@playwright/test";
import { e2eDatabase } from "./support/db";
import { expectNoHorizontalScroll, signIn } from "./support/fixtures";

test.describe("sign-in and the app shell", () => {
  test("bo signs in and sees the demos an employee may use", async ({ page }) => {
    await page.goto("/");
    await expect(page).toHaveURL(/\/signin$/);
    await signIn(page, "bo");
    await expect(page.getByRole("heading", { name: "Welcome, Bo" })).toBeVisible();
    const main = page.getByRole("main");
    await expect(main.getByRole("link", { name: /Reimbursements/ })).toBeVisible();
    await expect(main.getByRole("link", { name: /Departments/ })).toBeVisible();
    await expect(main.getByRole("link", { name: /My executions/ })).toBeVisible();
    await expect(page.getByRole("link", { name: /Approvals/ })).toHaveCount(0);
    await expect(page.getByRole("link", { name: /Push queue/ })).toHaveCount(0);
    await expect(page.getByText("Approval Notifications").first()).toBeVisible();
    await expectNoHorizontalScroll(page);
  });

  test("a wrong password gets a clear error and no session", async ({ page }) => {
    await page.goto("/signin");
    await page.getByLabel("Username").fill("bo");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign In" }).click();
    await expect(page.locator("form").getByRole("alert")).toHaveText("Invalid username or password.");
    await expect(page).toHaveURL(/\/signin/);
    await expect(page.getByLabel("Username")).toHaveValue("bo");
    await page.goto("/reimbursements");
    await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Freimbursements$/);
  });

  test("empty fields are named, not sent", async ({ page }) => {
    await page.goto("/signin");
    await page.getByRole("button", { name: "Sign In" }).click();
    await expect(page.getByText("Enter your username.")).toBeVisible();
    await expect(page.getByText("Enter your password.")).toBeVisible();
  });

  test("a signed-out deep link comes back to itself after sign-in", async ({ page }) => {
    // A claim of bo's own: a fixed id would belong to whoever's claim other tests happened to create.
    const sql = e2eDatabase();
    const [claim] = await sql<{ id: number }[]>`
      insert into reimbursements (user_id, amount_cents, receipt_from, client_token)
      select id, 4200, 'Deep Link Pharmacy', gen_random_uuid() from users where username = 'bo' returning id`;
    await sql.end();
    const id = claim!.id;
    await page.goto(`/reimbursements/${id}?from=push`);
    await expect(page).toHaveURL(
      new RegExp(`/signin\\?callbackUrl=%2Freimbursements%2F${id}%3Ffrom%3Dpush$`),
    );
    await signIn(page, "bo");
    await expect(page).toHaveURL(new RegExp(`/reimbursements/${id}\\?from=push$`));
    await expect(page.getByRole("heading", { name: `Reimbursement ${id}` })).toBeVisible();
  });

  test("a crafted callback cannot send a signed-in user to another site", async ({ page }) => {
    await page.goto("/signin?callbackUrl=https%3A%2F%2Fevil.example%2F");
    await signIn(page, "bo");
    await expect(page).toHaveURL(/localhost:\d+\/$/);
  });

  test("an employee is refused the approval queue; an approver gets it", async ({ browser, page }) => {
    await page.goto("/signin");
    await signIn(page, "bo");
    const refused = await page.goto("/approvals");
    expect(refused?.status()).toBe(403);
    await expect(page.getByRole("heading", { name: "Not allowed" })).toBeVisible();

    const approver = await browser.newPage();
    await approver.goto("/signin?callbackUrl=%2Fapprovals");
    await signIn(approver, "pat");
    await expect(approver.getByRole("heading", { name: "Approval Queue" })).toBeVisible();
    const adminOnly = await approver.goto("/admin/push-queue");
    expect(adminOnly?.status()).toBe(403);
    await approver.close();
  });

  test("an admin reaches the administration pages", async ({ page }) => {
    await page.goto("/signin");
    await signIn(page, "admin");
    for (const [path, heading] of [
      ["/admin/push-queue", "Push Notifications Queue"],
      ["/admin/subscriptions", "Subscriptions"],
      ["/admin/executions", "All Background Executions"],
      ["/approvals", "Approval Queue"],
    ]) {
      const response = await page.goto(path as string);
      expect(response?.status()).toBe(200);
      await expect(page.getByRole("heading", { name: heading as string, level: 1 })).toBeVisible();
    }
  });

  test("the user menu leads to settings and signs out", async ({ page, context }) => {
    await page.goto("/signin");
    // Persistent authentication ("Remember me", SPEC H3): the cookie outlives the browser by 30 days.
    await page.getByLabel("Remember me").check();
    await signIn(page, "steve");
    const session = (await context.cookies()).find((cookie) => cookie.name.includes("session-token"));
    expect(session?.httpOnly).toBe(true);
    const days = ((session?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30.01);

    await page.getByLabel("User menu for Steve").click();
    await page.getByRole("menuitem", { name: "Settings" }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByRole("link", { name: /Push Notifications/ })).toBeVisible();

    await page.getByLabel("User menu for Steve").click();
    await page.getByRole("menuitem", { name: "Sign Out" }).click();
    await expect(page).toHaveURL(/\/signin/);
    await page.goto("/executions");
    await expect(page).toHaveURL(/\/signin\?callbackUrl=%2Fexecutions$/);
  });
});

test.describe("health", () => {
  test("reports the database and the live workers", async ({ request }) => {
    const response = await request.get("/api/health");
    expect(response.status()).toBe(200);
    const body = await response.json();
    expect(body).toMatchObject({ ok: true, database: "postgres" });
    expect(body.workers.live).toBeGreaterThanOrEqual(1);
    expect(body.workers.inProcess).toMatchObject({ kind: "web", running: true });
  });

  test("an API call without a session gets 401 JSON, not a redirect", async ({ request }) => {
    const response = await request.get("/api/anything-protected", { maxRedirects: 0 });
    expect(response.status()).toBe(401);
    expect(await response.json()).toMatchObject({ ok: false });
  });
});
