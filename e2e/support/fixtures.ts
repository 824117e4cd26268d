import { expect, type Page } from "@playwright/test";

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
