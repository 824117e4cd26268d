import type { Page } from "@playwright/test";
import { e2eDatabase } from "./support/db";
import { expect, expectNoHorizontalScroll, signIn, test } from "./support/fixtures";
import {
  clickNotification,
  currentDoubleSubscriptionId,
  deliverToServiceWorker,
  PUSH_CONTROL,
  shownNotifications,
} from "./support/push";

async function submitClaim(page: Page, amount: string, receiptFrom: string): Promise<number> {
  await page.goto("/reimbursements");
  await page.getByLabel("Amount").fill(amount);
  await page.getByLabel("Receipt From").fill(receiptFrom);
  await page.getByRole("button", { name: "Submit" }).click();
  await expect(page.getByRole("status")).toHaveText("Reimbursement request submitted.");
  const row = page.getByRole("row").filter({ hasText: receiptFrom }).first();
  await expect(row).toContainText("REVIEWING");
  return Number(await row.getByRole("link").first().textContent());
}

interface PushedMessage {
  payload: string;
}

/** Messages the push service double received for a device, decrypted, filtered by what they say. */
async function pushedTo(
  subscriptionId: string,
  match: (n: { title: string; body: string; navigate: string }) => boolean,
) {
  const response = await fetch(`${PUSH_CONTROL}/messages?subscription=${subscriptionId}`);
  const messages = (await response.json()) as PushedMessage[];
  return messages.filter((m) => match(JSON.parse(m.payload).notification));
}

async function waitForPushed(
  subscriptionId: string,
  match: (n: { title: string; body: string; navigate: string }) => boolean,
): Promise<PushedMessage> {
  await expect
    .poll(async () => (await pushedTo(subscriptionId, match)).length, { timeout: 10_000 })
    .toBeGreaterThan(0);
  return (await pushedTo(subscriptionId, match))[0]!;
}

function taskCard(page: Page, reimbursementId: number) {
  return page
    .getByRole("listitem")
    .filter({ has: page.locator(`a[href="/reimbursements/${reimbursementId}"]`) });
}

test.describe("reimbursement approval with deep-linked notifications", () => {
  test("the whole story: submit, approve, notification, tap opens the approved claim", async ({
    person,
  }, testInfo) => {
    // The phone project tells the story with bo; desktop runs the same with steve so the two never mix.
    const claimant = testInfo.project.name === "phone" ? "bo" : "steve";
    const employee = await person(claimant, { push: true });
    const device = await currentDoubleSubscriptionId(employee.page);

    const id = await submitClaim(employee.page, "59.95", "Joe's Pharmacy");
    await expectNoHorizontalScroll(employee.page);

    const approver = await person("pat");
    await approver.page.goto("/approvals");
    const card = taskCard(approver.page, id);
    await expect(card).toContainText(`Claim for $59.95 from Joe's Pharmacy by ${claimant.toUpperCase()}`);
    await expect(card).toContainText(`Claim Approval · Initiated by ${claimant}`);
    await card.getByRole("button", { name: /^Approve/ }).click();
    await expect(approver.page.getByRole("status")).toContainText("was approved.");
    await expect(taskCard(approver.page, id)).toHaveCount(0);

    const message = await waitForPushed(device, (n) => n.navigate.endsWith(`/reimbursements/${id}`));
    await deliverToServiceWorker(employee.page, message.payload);
    await expect
      .poll(async () =>
        (await shownNotifications(employee.page)).find((n) => n.data.url.endsWith(`/reimbursements/${id}`)),
      )
      .toMatchObject({
        title: "Reimbursement Approved",
        body: "Your reimbursement of $59.95 from Joe's Pharmacy was approved.",
      });

    await employee.page.goto("/");
    await clickNotification(employee.context, "Reimbursement Approved");
    await expect(employee.page).toHaveURL(new RegExp(`/reimbursements/${id}$`));
    const details = employee.page.locator("dl");
    await expect(details).toContainText("APPROVED");
    await expect(details).toContainText("PAT");
    await expect(details).toContainText("$59.95");
    await expect(details).toContainText("Joe's Pharmacy");
    await expectNoHorizontalScroll(employee.page);

    // The same tap on a device where the session ended: sign-in first, then straight back to the claim.
    const { page: tap } = await person(null);
    await tap.goto(`/reimbursements/${id}`);
    await expect(tap).toHaveURL(new RegExp(`/signin\\?callbackUrl=%2Freimbursements%2F${id}$`));
    await signIn(tap, claimant);
    await expect(tap).toHaveURL(new RegExp(`/reimbursements/${id}$`));
    await expect(tap.locator("dl")).toContainText("APPROVED");
  });

  test("reject path: the claimant sees REJECTED", async ({ person }, testInfo) => {
    const receipt = `Reject Shop ${testInfo.project.name} ${Date.now()}`;
    const employee = await person("bo");
    const id = await submitClaim(employee.page, "12.50", receipt);
    const approver = await person("pat");
    await approver.page.goto(`/approvals?q=${encodeURIComponent(receipt)}`);
    await taskCard(approver.page, id)
      .getByRole("button", { name: /^Reject/ })
      .click();
    await expect(approver.page.getByRole("status")).toContainText("was rejected.");
    await employee.page.goto(`/reimbursements/${id}`);
    await expect(employee.page.locator("dl")).toContainText("REJECTED");
    await employee.page.goto("/reimbursements");
    await expect(employee.page.getByRole("row").filter({ hasText: receipt })).toContainText("REJECTED");
  });

  test("two approvers at once: one decision, one notification, a clear message for the other", async ({
    person,
  }, testInfo) => {
    const receipt = `Race Shop ${testInfo.project.name} ${Date.now()}`;
    const employee = await person("bo", { push: true });
    const device = await currentDoubleSubscriptionId(employee.page);
    const id = await submitClaim(employee.page, "33.00", receipt);
    const pat = await person("pat");
    const admin = await person("admin");
    for (const { page } of [pat, admin]) await page.goto(`/approvals?q=${encodeURIComponent(receipt)}`);
    await Promise.all([
      taskCard(pat.page, id)
        .getByRole("button", { name: /^Approve/ })
        .click(),
      taskCard(admin.page, id)
        .getByRole("button", { name: /^Approve/ })
        .click(),
    ]);
    const texts = await Promise.all(
      [pat.page, admin.page].map(async (page) => {
        const alert = page.locator(".alert");
        await expect(alert).toBeVisible();
        return alert.textContent();
      }),
    );
    expect(texts.filter((t) => t?.includes("was approved."))).toHaveLength(1);
    expect(
      texts.filter((t) => /This claim was already approved by (PAT|ADMIN)\./.test(t ?? "")),
    ).toHaveLength(1);
    await waitForPushed(device, (n) => n.navigate.endsWith(`/reimbursements/${id}`));
    // Both decisions have returned, so every push they queued exists: wait until none is left to send.
    const sql = e2eDatabase();
    await expect
      .poll(async () => {
        const [row] = await sql<{ left: number }[]>`
          select count(*)::int as left from push_messages m join push_subscriptions s on s.id = m.subscription_id
          where s.endpoint like ${`%${device}%`} and m.status in ('queued', 'sending')`;
        return row?.left;
      })
      .toBe(0);
    await sql.end();
    expect(await pushedTo(device, (n) => n.navigate.endsWith(`/reimbursements/${id}`))).toHaveLength(1);
  });

  test("an employee cannot open another employee's reimbursement", async ({ person }, testInfo) => {
    const steve = await person("steve");
    const id = await submitClaim(steve.page, "9.99", `Private ${testInfo.project.name} ${Date.now()}`);
    const bo = await person("bo");
    const response = await bo.page.goto(`/reimbursements/${id}`);
    expect(response?.status()).toBe(404);
    await expect(bo.page.getByRole("heading", { name: "Not found" })).toBeVisible();
    await expect(bo.page.getByText("9.99")).toHaveCount(0);
  });

  test("bad amounts get a field error and create nothing", async ({ page }, testInfo) => {
    await page.goto("/signin?callbackUrl=%2Freimbursements");
    await signIn(page, testInfo.project.name === "phone" ? "bo" : "steve");
    // (Not a count of all rows: the list updates itself, and another test may add this user's claims.)
    const badRows = page.getByRole("row").filter({ hasText: "Bad Amount Shop" });
    for (const amount of ["", "-1", "abc", "1e9"]) {
      await page.getByLabel("Amount").fill(amount);
      await page.getByLabel("Receipt From").fill("Bad Amount Shop");
      await page.getByRole("button", { name: "Submit" }).click();
      await expect(page.locator("#amount-error")).toBeVisible();
      await expect(page.getByLabel("Amount")).toHaveAttribute("aria-invalid", "true");
      await expect(page.getByLabel("Receipt From")).toHaveValue("Bad Amount Shop");
      await expect(badRows).toHaveCount(0);
    }
    // Nothing was created on the server either: a reload shows none.
    await page.reload();
    await expect(page.getByRole("heading", { name: "Reimbursement Request History" })).toBeVisible();
    await expect(badRows).toHaveCount(0);
  });

  test("Approve from the approver's notification acts like the button", async ({ person }, testInfo) => {
    const receipt = `Action Shop ${testInfo.project.name} ${Date.now()}`;
    const approver = await person("pat", { push: true });
    const device = await currentDoubleSubscriptionId(approver.page);
    const employee = await person("bo");
    const id = await submitClaim(employee.page, "44.00", receipt);

    const message = await waitForPushed(device, (n) => n.body.includes(receipt));
    const notification = JSON.parse(message.payload).notification;
    expect(notification.title).toBe("New reimbursement claim");
    expect(notification.body).toBe(`Claim for $44.00 from ${receipt} by BO`);
    await deliverToServiceWorker(approver.page, message.payload);
    await expect
      .poll(async () => (await shownNotifications(approver.page)).some((n) => n.body.includes(receipt)))
      .toBe(true);

    const worker =
      approver.context.serviceWorkers()[0] ?? (await approver.context.waitForEvent("serviceworker"));
    await worker.evaluate(async (text) => {
      const scope = self as unknown as ServiceWorkerGlobalScope;
      const shown = (await scope.registration.getNotifications()).find((n) => n.body.includes(text));
      if (!shown) throw new Error("notification not shown");
      scope.dispatchEvent(
        new NotificationEvent("notificationclick", { notification: shown, action: "approve" }),
      );
    }, receipt);
    await expect
      .poll(
        async () => (await shownNotifications(approver.page)).find((n) => n.title === "Claim approved")?.body,
      )
      .toContain(receipt);
    await employee.page.goto(`/reimbursements/${id}`);
    await expect(employee.page.locator("dl")).toContainText("APPROVED");
    await expect(employee.page.locator("dl")).toContainText("PAT");
  });

  test("the notification endpoint refuses employees and cross-site posts", async ({ page, person }) => {
    await page.goto("/signin");
    await signIn(page, "bo");
    const asEmployee = await page.request.post("/api/approvals/1/approve", { data: {} });
    expect(asEmployee.status()).toBe(403);
    expect(await asEmployee.json()).toMatchObject({ ok: false, code: "forbidden" });
    const badDecision = await page.request.post("/api/approvals/abc/maybe", { data: {} });
    expect([400, 403]).toContain(badDecision.status());

    const { page: patPage } = await person("pat");
    const crossSite = await patPage.request.post("/api/approvals/1/approve", {
      data: {},
      headers: { origin: "https://evil.example.com" },
    });
    expect(crossSite.status()).toBe(403);
    expect(await crossSite.json()).toMatchObject({ code: "cross_origin" });
    const wrongDecision = await patPage.request.post("/api/approvals/1/maybe", { data: {} });
    expect(wrongDecision.status()).toBe(400);
  });
});
