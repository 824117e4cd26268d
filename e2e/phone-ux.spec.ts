import type { Locator, Page, TestInfo } from "@playwright/test";
import { expect, expectNoHorizontalScroll, signIn, test } from "./support/fixtures";
import { clickNotification, deliverToServiceWorker, PUSH_CONTROL, stubPushManager } from "./support/push";

const isPhone = (testInfo: TestInfo) => testInfo.project.name === "phone";

async function box(locator: Locator) {
  const found = await locator.boundingBox();
  if (!found) throw new Error(`no box for ${locator}`);
  return found;
}

async function submitClaim(page: Page, receipt: string): Promise<number> {
  await page.goto("/reimbursements");
  await page.getByLabel("Amount").fill("12.50");
  await page.getByLabel("Receipt From").fill(receipt);
  await page.getByRole("button", { name: "Submit" }).click();
  await expect(page.getByRole("status")).toHaveText("Reimbursement request submitted.");
  const row = page.getByRole("row").filter({ hasText: receipt }).first();
  return Number(await row.getByRole("link").first().textContent());
}

test.describe("phone-first layout (U2, U3, U5)", () => {
  test("lists are cards at 390 px with every field in view; tables use the width on desktop", async ({
    page,
  }, testInfo) => {
    test.setTimeout(120_000);
    const receipt = `Cards ${testInfo.project.name} ${Date.now()}`;
    await page.goto("/signin");
    await signIn(page, "admin");
    await submitClaim(page, receipt);
    const row = page.getByRole("row").filter({ hasText: receipt }).first();
    const viewport = page.viewportSize()!;
    const rowBox = await box(row);
    const link = row.getByRole("link").first();
    const status = row.getByText("REVIEWING");
    if (isPhone(testInfo)) {
      expect(viewport.width).toBe(390);
      // A card: the row is as wide as the content, its fields stacked, all inside the screen.
      expect(rowBox.x).toBeGreaterThanOrEqual(0);
      expect(rowBox.x + rowBox.width).toBeLessThanOrEqual(viewport.width);
      expect(rowBox.height).toBeGreaterThan(150);
      for (const field of [link, status, row.getByText("$12.50"), row.getByText(receipt)]) {
        const fieldBox = await box(field);
        expect(fieldBox.x + fieldBox.width).toBeLessThanOrEqual(viewport.width);
      }
      // Each value carries its column's name.
      await expect(row.getByRole("cell").nth(1)).toHaveAttribute("data-label", "Amount");
      // A status badge is as wide as its word, not stretched across the card.
      expect((await box(status)).width).toBeLessThan(rowBox.width / 3);
      // Sorting is one "Sort by" select above the cards, not a row of header chips.
      await expect(page.getByLabel("Sort by")).toBeVisible();
      await expect(page.locator("main thead button:visible")).toHaveCount(0);
      // The claim link, the only way into a claim, is a real touch target.
      const linkBox = await box(link);
      expect(linkBox.width).toBeGreaterThanOrEqual(44);
      expect(linkBox.height).toBeGreaterThanOrEqual(44);
    } else {
      // A table row: all five fields side by side on one line, the table as wide as its card.
      expect(rowBox.height).toBeLessThan(80);
      const table = await box(page.getByRole("table", { name: "Reimbursement Request History" }));
      const main = await box(page.locator("main"));
      expect(table.width).toBeGreaterThan(main.width - 80);
    }
    await expectNoHorizontalScroll(page);

    // Sales, processing and department lists: no sideways scroll either.
    for (const path of [
      "/data-load",
      "/processing/status",
      "/departments",
      "/admin/push-queue",
      "/executions",
    ]) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      await expectNoHorizontalScroll(page);
    }
    // An empty state is readable, not centred across a scroll width and cut off.
    await page.goto("/processing/status");
    const empty = page.getByText("No department is being processed right now.");
    if (await empty.isVisible()) {
      const emptyBox = await box(empty);
      expect(emptyBox.x).toBeGreaterThanOrEqual(0);
      expect(emptyBox.x + emptyBox.width).toBeLessThanOrEqual(viewport.width);
    }
  });

  test("words are not broken letter by letter", async ({ page }) => {
    await page.goto("/signin");
    await signIn(page, "admin");
    await page.goto("/admin/push-queue");
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
    const wrapping = await page.evaluate(() => {
      const probe = document.createElement("span");
      probe.className = "cell-clip";
      document.querySelector("main")?.append(probe);
      const style = getComputedStyle(probe);
      const result = { overflowWrap: style.overflowWrap, wordBreak: style.wordBreak };
      probe.remove();
      return result;
    });
    expect(wrapping.overflowWrap).not.toBe("anywhere");
    expect(wrapping.wordBreak).not.toBe("break-all");
  });

  test("controls are at least 44 px on phones and never under 24 px", async ({ page }, testInfo) => {
    await page.goto("/signin");
    await signIn(page, "admin");
    const minimum = isPhone(testInfo) ? 44 : 24;
    for (const path of ["/reimbursements", "/approvals", "/departments", "/data-load", "/settings/push"]) {
      await page.goto(path);
      await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
      const small = await page.evaluate((min) => {
        const selector =
          "main button, main .button, main input:not([type=hidden]):not([type=checkbox]), main select, nav a, main [role=switch], .user-menu summary";
        return [...document.querySelectorAll<HTMLElement>(selector)]
          .filter((element) => element.offsetParent !== null && !element.closest("dialog:not([open])"))
          .map((element) => {
            const rect = element.getBoundingClientRect();
            return { what: element.outerHTML.slice(0, 80), width: rect.width, height: rect.height };
          })
          .filter((target) => target.height < min || target.width < 24);
      }, minimum);
      expect(small, `${path}: targets under ${minimum} px`).toEqual([]);
    }
  });
});

test.describe("navigation (U4)", () => {
  test("grouped navigation: every page one or two taps away, the current one in view", async ({
    page,
  }, testInfo) => {
    await page.goto("/signin");
    await signIn(page, "admin");
    const main = page.getByRole("navigation", { name: "Main" });
    const groups = ["Home", "Reimbursements", "Approvals", "Background", "Admin", "Settings"];
    const viewport = page.viewportSize()!;
    for (const name of groups) {
      const tab = main.getByRole("link", { name, exact: true });
      await expect(tab).toBeInViewport({ ratio: 1 });
      const tabBox = await box(tab);
      expect(tabBox.x + tabBox.width).toBeLessThanOrEqual(viewport.width);
    }
    if (isPhone(testInfo)) {
      // A bottom tab bar within thumb reach.
      const bar = await box(main);
      expect(bar.y + bar.height).toBeGreaterThanOrEqual(viewport.height - 2);
      // Every label whole ("Reimburse-ments" on two lines, not "Reimbur…").
      const cut = await main
        .locator("a > span")
        .evaluateAll((labels) =>
          labels
            .filter((label) => label.scrollWidth > label.clientWidth + 1)
            .map((label) => label.textContent),
        );
      expect(cut, "tab labels cut short").toEqual([]);
    }
    // Two taps: the group, then its page; the current page is marked and visible.
    await main.getByRole("link", { name: "Background", exact: true }).click();
    await expect(page).toHaveURL(/\/departments$/);
    const background = page.getByRole("navigation", { name: "Background" });
    await background.getByRole("link", { name: "Data load" }).click();
    await expect(page).toHaveURL(/\/data-load$/);
    const current = background.getByRole("link", { name: "Data load" });
    await expect(current).toHaveAttribute("aria-current", "page");
    await expect(current).toBeInViewport({ ratio: 1 });
    // The group's pages are one row (on a phone it scrolls sideways) ...
    const rows = await background
      .getByRole("listitem")
      .evaluateAll(
        (items) => new Set(items.map((item) => Math.round(item.getBoundingClientRect().top))).size,
      );
    expect(rows, "rows of the Background pages").toBe(1);
    // ... and a page opened directly has its entry scrolled into view, the last one included.
    await page.goto("/executions");
    await expect(background.getByRole("link", { name: "My executions" })).toBeInViewport({ ratio: 1 });
    await expect(main.getByRole("link", { name: "Background", exact: true })).toHaveAttribute(
      "aria-current",
      "true",
    );
    // Admin pages likewise.
    await main.getByRole("link", { name: "Admin", exact: true }).click();
    await page
      .getByRole("navigation", { name: "Admin" })
      .getByRole("link", { name: "All executions" })
      .click();
    await expect(page).toHaveURL(/\/admin\/executions$/);
    // Settings is in the navigation, and says whether push is on for this device.
    await main.getByRole("link", { name: "Settings", exact: true }).click();
    await expect(page).toHaveURL(/\/settings$/);
    await expect(page.getByTestId("push-status")).toHaveText(/for this device|Not available/);
    await page.getByRole("link", { name: /Push Notifications/ }).click();
    await expect(page).toHaveURL(/\/settings\/push$/);
    await expectNoHorizontalScroll(page);
  });

  test("an employee sees only the groups for employees", async ({ page }) => {
    await page.goto("/signin");
    await signIn(page, "steve");
    const main = page.getByRole("navigation", { name: "Main" });
    await expect(main.getByRole("link")).toHaveText(["Home", "Reimbursements", "Background", "Settings"]);
  });
});

test.describe("push feedback (U6)", () => {
  test("enabling shows progress and times out with a clear message when the browser never answers", async ({
    page,
    context,
    baseURL,
  }) => {
    test.setTimeout(60_000);
    await context.grantPermissions(["notifications"], { origin: baseURL });
    await context.addInitScript(() => {
      PushManager.prototype.subscribe = () => new Promise<PushSubscription>(() => {});
      PushManager.prototype.getSubscription = async () => null;
    });
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, "pat");
    const toggle = page.getByRole("switch", { name: "Enable push notifications on this device" });
    await expect(page.getByText("Off for this device.")).toBeVisible();
    await toggle.click();
    await expect(page.getByText(/^Enabling…/)).toBeVisible();
    await expect(toggle).toHaveAttribute("aria-busy", "true");
    const failed = page.getByRole("alert").filter({ hasText: "failed to enable push notifications" });
    await expect(failed).toContainText("The browser did not finish subscribing within 15 seconds.", {
      timeout: 25_000,
    });
    await expect(toggle).toHaveAttribute("aria-checked", "false");
    await expect(toggle).toBeEnabled();
  });

  test("a browser's raw refusal is explained in a plain sentence", async ({ page, context, baseURL }) => {
    await context.grantPermissions(["notifications"], { origin: baseURL });
    await context.addInitScript(() => {
      PushManager.prototype.subscribe = async () => {
        throw new DOMException("Registration failed - permission denied", "NotAllowedError");
      };
      PushManager.prototype.getSubscription = async () => null;
    });
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, "pat");
    await page.getByRole("switch", { name: "Enable push notifications on this device" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "failed to enable push notifications" });
    await expect(alert).toContainText(
      "Private or incognito windows usually cannot receive push notifications",
    );
    await expect(alert).not.toContainText("Registration failed");
  });
});

test.describe("live pages (U7)", () => {
  test("the claimant's history and the approval queue update by themselves", async ({
    page,
    person,
  }, testInfo) => {
    test.setTimeout(120_000);
    const receipt = `Live ${testInfo.project.name} ${Date.now()}`;
    await page.goto("/signin");
    await signIn(page, isPhone(testInfo) ? "steve" : "bo");
    const approver = await person("pat");
    await approver.page.goto("/approvals");
    await expect(approver.page.getByRole("heading", { name: "Approval Queue" })).toBeVisible();

    await submitClaim(page, receipt);
    // The approver's open queue shows the new claim without a reload.
    const task = approver.page.getByRole("listitem").filter({ hasText: receipt });
    await expect(task).toBeVisible({ timeout: 5_000 });
    const approve = task.getByRole("button", { name: /^Approve/ });
    await expect(approve).toBeEnabled();
    await approve.click();
    await expect(approver.page.getByRole("status")).toBeVisible({ timeout: 20_000 });
    // The claimant's open history follows.
    await expect(page.getByRole("row").filter({ hasText: receipt })).toContainText("APPROVED", {
      timeout: 5_000,
    });
  });
});

test.describe("safe destructive actions (U9)", () => {
  test("Delete is secondary, apart from the other buttons, and asks first", async ({ page }, testInfo) => {
    const deptno = isPhone(testInfo) ? 40 : 10;
    await page.goto("/signin");
    await signIn(page, "pat");
    await page.goto("/departments");
    await page.getByRole("button", { name: `Edit department ${deptno}` }).click();
    const dialog = page.getByRole("dialog", { name: `Department ${deptno}` });
    const remove = dialog.getByRole("button", { name: "Delete" });
    const cancel = dialog.getByRole("button", { name: "Cancel" });
    // Not solid red: a quiet outline.
    const background = await remove.evaluate((element) => getComputedStyle(element).backgroundColor);
    expect(background).toMatch(/rgba\(0, 0, 0, 0\)|transparent/);
    // Apart: below the other actions, not beside Cancel.
    const removeBox = await box(remove);
    const cancelBox = await box(cancel);
    expect(removeBox.y).toBeGreaterThan(cancelBox.y + cancelBox.height);
    await remove.click();
    const confirm = page.getByRole("dialog", { name: `Delete department ${deptno}?` });
    await expect(confirm).toBeVisible();
    await expect(confirm.getByRole("button", { name: "Cancel" })).toBeFocused();
    await confirm.getByRole("button", { name: "Cancel" }).click();
    await expect(confirm).toBeHidden();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(page.getByRole("button", { name: `Edit department ${deptno}` })).toBeVisible();
  });
});

test.describe("dark mode (U10)", () => {
  test.use({ colorScheme: "dark" });
  test("pages follow the system's dark setting", async ({ page }) => {
    await page.goto("/signin");
    await signIn(page, "bo");
    await page.goto("/reimbursements");
    const colours = await page.evaluate(() => {
      const luminance = (css: string) => {
        const [r, g, b] = (css.match(/\d+(\.\d+)?/g) ?? ["0", "0", "0"]).map(Number);
        return (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0)) / 255;
      };
      const body = getComputedStyle(document.body);
      const card = getComputedStyle(document.querySelector(".card") as Element);
      return {
        body: luminance(body.backgroundColor),
        text: luminance(body.color),
        card: luminance(card.backgroundColor),
      };
    });
    expect(colours.body).toBeLessThan(0.15);
    expect(colours.card).toBeLessThan(0.2);
    expect(colours.text).toBeGreaterThan(0.8);
  });
});

test.describe("offline and install (U11)", () => {
  test("a page seen before opens offline; others show the app's offline page", async ({ page, context }) => {
    await page.goto("/signin");
    await signIn(page, "steve");
    await page.evaluate(() => navigator.serviceWorker.ready);
    await expect.poll(() => page.evaluate(() => Boolean(navigator.serviceWorker.controller))).toBe(true);
    await page.goto("/reimbursements");
    await expect(page.getByRole("heading", { name: "Manage Reimbursements" })).toBeVisible();
    await context.setOffline(true);
    try {
      await page.goto("/reimbursements");
      await expect(page.getByRole("heading", { name: "Manage Reimbursements" })).toBeVisible();
      await page.goto("/processing/history?never-seen");
      await expect(page.getByRole("heading", { name: "You are offline" })).toBeVisible();
    } finally {
      await context.setOffline(false);
    }
  });

  test("Install App gives the browser's steps when it offers no prompt", async ({ page }, testInfo) => {
    await page.goto("/signin");
    await signIn(page, "steve");
    await page.getByLabel(/^User menu for/).click();
    await page.getByRole("menuitem", { name: "Install App" }).click();
    const dialog = page.getByRole("dialog", { name: "Install the app" });
    await expect(dialog).toBeVisible();
    // The phone project is an iPhone: Share → Add to Home Screen.
    await expect(dialog).toContainText(
      isPhone(testInfo) ? "Add to Home Screen" : "Install Approval Notifications",
    );
    await dialog.getByRole("button", { name: "Done" }).click();
    await expect(dialog).toBeHidden();
  });
});

test.describe("completion notifications (U13, D5)", () => {
  test("a finished data load notifies its starter; the tap opens the load page", async ({
    page,
    context,
    baseURL,
  }, testInfo) => {
    test.setTimeout(90_000);
    const user = isPhone(testInfo) ? "pat" : "admin";
    await context.grantPermissions(["notifications"], { origin: baseURL });
    await stubPushManager(context);
    await page.goto("/signin?callbackUrl=%2Fsettings%2Fpush");
    await signIn(page, user);
    const toggle = page.getByRole("switch", { name: "Enable push notifications on this device" });
    await expect(toggle).toBeEnabled();
    await toggle.click();
    await expect(toggle).toHaveAttribute("aria-checked", "true");
    const subscription = await page.evaluate(
      () => JSON.parse(localStorage.getItem("push-double-subscription") ?? "{}").id,
    );

    await page.goto("/data-load");
    const csv = [
      "Region,Country,Item Type,Sales Channel,Order Priority,Units Sold,Unit Price,Unit Cost,Total Profit",
      "Europe,Germany,Cereal,Online,H,100,205.70,117.11,8859.00",
      "",
    ].join("\n");
    const name = `notify-${testInfo.project.name}.csv`;
    await page
      .getByLabel("CSV or ZIP file")
      .setInputFiles({ name, mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.getByRole("button", { name: "Load Data" }).click();
    await expect(page.getByRole("status")).toHaveText(`"${name}" submitted for loading.`);

    let payload = "";
    await expect
      .poll(
        async () => {
          const response = await fetch(`${PUSH_CONTROL}/messages?subscription=${subscription}`);
          const messages = (await response.json()) as { payload: string }[];
          payload = messages.map((m) => m.payload).find((p) => p.includes("Sales data loaded")) ?? "";
          return payload;
        },
        { timeout: 30_000 },
      )
      .toContain("Sales data loaded: 1 row");
    await page.goto("/settings");
    await deliverToServiceWorker(page, payload);
    await clickNotification(context, "Sales data loaded: 1 row");
    await expect(page).toHaveURL(/\/data-load$/);
  });
});
