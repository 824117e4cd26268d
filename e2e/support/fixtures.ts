import { type BrowserContext, test as base, expect, type Page } from "@playwright/test";
import { stubPushManager } from "./push";

export const DEMO_PASSWORD = "demo";

/** Signs in through the real form, as a person does. */
export async function signIn(page: Page, username: string, password = DEMO_PASSWORD): Promise<void> {
  if (!page.url().includes("/signin")) await page.goto("/signin");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign In" }).click();
  await expect(page).not.toHaveURL(/\/signin/);
}

/** Fails when the page scrolls sideways, the usual sign of a layout broken on a phone. */
export async function expectNoHorizontalScroll(page: Page): Promise<void> {
  // Mobile browsers widen the layout viewport to fit wide content, so compare with the device's width.
  const deviceWidth = page.viewportSize()?.width ?? 0;
  const width = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, window.innerWidth));
  expect(width, "page width on this device").toBeLessThanOrEqual(deviceWidth);
}

/** A signed-in person on their own device: a browser context of the test's project (desktop or phone). */
export interface Person {
  context: BrowserContext;
  page: Page;
}

export interface PersonOptions {
  /** Enable push notifications on this device first (the push manager stubbed onto the push double). */
  push?: boolean;
}

/**
 * The tests' entry point: Playwright's `test` with `person(username)`, which signs someone in on a device
 * of their own (`person(null)`: a device nobody signed in on); every device a test opened is closed after it, passed or failed.
 */
export const test = base.extend<{
  /** `null`: a device nobody signed in on. */
  person: (username: string | null, options?: PersonOptions) => Promise<Person>;
}>({
  person: async ({ browser, baseURL }, use, testInfo) => {
    const contexts: BrowserContext[] = [];
    await use(async (username, options = {}) => {
      const context = await browser.newContext(testInfo.project.use);
      contexts.push(context);
      if (options.push) {
        await context.grantPermissions(["notifications"], { origin: baseURL });
        await stubPushManager(context);
      }
      const page = await context.newPage();
      if (username === null) return { context, page };
      await signIn(page, username);
      if (options.push) {
        await page.goto("/settings/push");
        const toggle = page.getByRole("switch", { name: "Enable push notifications on this device" });
        await expect(toggle).toBeEnabled();
        await toggle.click();
        await expect(toggle).toHaveAttribute("aria-checked", "true");
      }
      return { context, page };
    });
    await Promise.all(contexts.map((context) => context.close().catch(() => {})));
  },
});

export { expect };
