import { expect, test } from "@playwright/test";
import { expectNoHorizontalScroll, signIn } from "./support/fixtures";
import {
  clickNotification,
  currentDoubleSubscriptionId,
  deliverToServiceWorker,
  shownNotifications,
  stubPushManager,
  waitForPushMessage,
} from "./support/push";

const TOGGLE = "Enable push notifications on this device";
const FAILED = "This device failed to enable push notifications.";

// Desktop and phone run at the same time: each uses its own employee so their devices do not mix.
const userFor = (project: string) =>
  project === "phone" ? { name: "steve", display: "Steve" } : { name: "bo", display: "Bo" };

test.describe("native push notifications", () => {
  test("a user enables push, receives a notification within seconds, and its tap opens the target", async ({
    page,
    context,
    baseURL,
    browser,
  }, testInfo) => {
    const user = userFor(testInfo.project.name);
    await context.grantPermissions(["notifications"], { origin: baseURL });
    await stubPushManager(context);
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, user.name);

    const toggle = page.getByRole("switch", { name: TOGGLE });
    await expect(toggle).toHaveAttribute("aria-checked", "false");
    await expect(toggle).toBeEnabled();
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-checked", "true");
    await expect(page.getByText("This device", { exact: true })).toBeVisible();

    // The choice survives a reload.
    await page.reload();
    await expect(page.getByRole("switch", { name: TOGGLE })).toHaveAttribute("aria-checked", "true");

    // An administrator sees the device.
    const adminPage = await browser.newPage();
    await adminPage.goto("/signin?callbackUrl=%2Fadmin%2Fsubscriptions");
    await signIn(adminPage, "admin");
    const adminRow = adminPage.getByRole("row").filter({ hasText: user.name });
    await expect(adminRow.first()).toContainText(/localhost:\d+/);

    // A server-side send reaches the push service, encrypted and signed, and then the real service worker.
    const subscriptionId = await currentDoubleSubscriptionId(page);
    const started = Date.now();
    await page.getByRole("button", { name: "Send a test notification" }).click();
    await expect(page.getByRole("status")).toContainText("Test notification sent");
    const message = await waitForPushMessage(subscriptionId);
    testInfo.annotations.push({
      type: "enqueue→delivered (ms, incl. UI round trip)",
      description: String(Date.now() - started),
    });
    await deliverToServiceWorker(page, message.payload);
    await expect
      .poll(async () => (await shownNotifications(page)).map((n) => n.title))
      .toContain("Test notification");
    const [shown] = (await shownNotifications(page)).filter((n) => n.title === "Test notification");
    expect(shown?.body).toBe("Push notifications work on this device. Tap to open your settings.");
    expect(shown?.icon).toMatch(/\/icons\/icon-192\.png$/);
    expect(shown?.data.url).toBe(`${baseURL}/settings/push`);

    // Tapping it brings the open app window to the target page.
    await page.goto("/");
    await clickNotification(context, "Test notification");
    await expect(page).toHaveURL(/\/settings\/push$/);

    // The queue shows it as sent (one label per state on every page: "Sent").
    await adminPage.goto("/admin/push-queue");
    await expect(adminPage.getByRole("row").filter({ hasText: "Test notification" }).first()).toContainText(
      "Sent",
    );
    // It was encrypted on the sender's encryption thread, not on the web server's main thread.
    const metrics = await adminPage.request.get("/api/metrics");
    expect(await metrics.text()).toMatch(/^push_encryption_threads [1-9]\d*$/m);
    await adminPage.close();

    // Disabling unsubscribes and removes the server row.
    await page.getByRole("switch", { name: TOGGLE }).click();
    await expect(page.getByRole("switch", { name: TOGGLE })).toHaveAttribute("aria-checked", "false");
    await expect(page.getByText("This device", { exact: true })).toHaveCount(0);
  });

  test("a refused permission gets the clear error and stores nothing", async ({
    page,
    context,
  }, testInfo) => {
    const user = userFor(testInfo.project.name);
    await stubPushManager(context);
    await context.clearPermissions();
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, user.name);
    await page.evaluate(() => {
      // Answer the permission prompt with "Block", as a person would.
      Notification.requestPermission = async () => "denied";
    });
    const toggle = page.getByRole("switch", { name: TOGGLE });
    await toggle.click();
    await expect(page.getByRole("alert").filter({ hasText: FAILED })).toContainText(
      "Permission to show notifications was not given.",
    );
    await expect(toggle).toHaveAttribute("aria-checked", "false");
  });

  test("a subscription on a host that is not allowed is refused by the server", async ({
    page,
    context,
    baseURL,
  }, testInfo) => {
    const user = userFor(testInfo.project.name);
    await context.grantPermissions(["notifications"], { origin: baseURL });
    await stubPushManager(context, { endpointOverride: "https://attacker.example.com/push/1" });
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, user.name);
    await page.getByRole("switch", { name: TOGGLE }).click();
    const alert = page.getByRole("alert").filter({ hasText: FAILED });
    await expect(alert).toBeVisible();
    await expect(alert).toContainText('Push service host "attacker.example.com" is not allowed.');
    await expect(page.getByRole("switch", { name: TOGGLE })).toHaveAttribute("aria-checked", "false");
  });

  test("the subscription API answers bad input with 4xx JSON", async ({ page }, testInfo) => {
    await page.goto("/signin");
    await signIn(page, userFor(testInfo.project.name).name);
    const post = (data: string | Buffer) =>
      page.request.post("/api/push/subscriptions", { data, headers: { "content-type": "application/json" } });
    const notJson = await post(Buffer.from("{not json"));
    expect(notJson.status()).toBe(400);
    expect(await notJson.json()).toMatchObject({ ok: false, code: "invalid_json" });
    const wrongShape = await post(JSON.stringify({ endpoint: 42 }));
    expect(wrongShape.status()).toBe(400);
    expect((await wrongShape.json()).fieldErrors).toBeTruthy();
    const huge = await post(JSON.stringify({ endpoint: "x".repeat(1_000_000) }));
    expect(huge.status()).toBe(413);
    const anonymous = await page.context().request.fetch("/api/push/public-key", { headers: { cookie: "" } });
    expect([200, 401]).toContain(anonymous.status());
  });

  test("manifest and service worker are served for installation", async ({ request }) => {
    const manifest = await request.get("/manifest.webmanifest");
    expect(manifest.status()).toBe(200);
    const body = await manifest.json();
    expect(body).toMatchObject({
      name: "Approval Notifications",
      short_name: "Approvals",
      display: "standalone",
      start_url: "/",
    });
    expect(
      body.icons.map((icon: { sizes: string; purpose: string }) => `${icon.sizes} ${icon.purpose}`),
    ).toEqual(expect.arrayContaining(["192x192 any", "512x512 any", "512x512 maskable"]));
    for (const icon of body.icons as { src: string }[]) {
      const png = await request.get(icon.src);
      expect(png.headers()["content-type"]).toBe("image/png");
    }
    const sw = await request.get("/sw.js");
    expect(sw.status()).toBe(200);
    expect(sw.headers()["cache-control"]).toContain("no-cache");
    expect(await sw.text()).toContain("notificationclick");
  });

  test("the iPhone browser tab explains Add to Home Screen", async ({ page }, testInfo) => {
    test.skip(testInfo.project.name !== "phone", "iOS hint is for the iPhone viewport");
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, "steve");
    // The hint above the switch (the install steps list it too).
    await expect(page.locator("p.alert-info").getByText("Add to Home Screen")).toBeVisible();
  });

  test("an administrator must confirm before regenerating credentials", async ({ page }) => {
    await page.goto("/signin?callbackUrl=%2Fadmin%2Fpush-queue");
    await signIn(page, "admin");
    await expectNoHorizontalScroll(page);
    await page.getByRole("button", { name: "Regenerate credentials" }).click();
    const dialog = page.getByRole("dialog", { name: "Regenerate push credentials?" });
    await expect(dialog).toContainText("Every existing subscription stops working and is deleted");
    await expect(dialog).toContainText("the push queue is cleared");
    const confirm = dialog.getByRole("button", { name: "Regenerate credentials" });
    await expect(confirm).toBeDisabled();
    await dialog.getByLabel("Type REGENERATE to confirm").fill("regenerate");
    await expect(confirm).toBeDisabled();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    await page.getByRole("button", { name: "Push Queue", exact: true }).click();
    await expect(page.getByRole("status")).toContainText("being sent now");
  });
});
