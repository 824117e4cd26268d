// The steps of the reimbursement story in Firefox, shared by the Firefox tests and bench/firefox-latency.ts.
import assert from "node:assert/strict";
import type { Page } from "puppeteer-core";
import { eventually, open, type World } from "./harness";

export const SWITCH = "button[role=switch]";

export async function switchState(page: Page): Promise<string | null> {
  return page.$eval(SWITCH, (button) =>
    button.hasAttribute("disabled") ? "disabled" : button.getAttribute("aria-checked"),
  );
}

/** The endpoint of this page's push subscription, as Firefox's PushManager reports it. */
export function currentEndpoint(page: Page): Promise<string | null> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.pushManager.getSubscription())?.endpoint ?? null;
  });
}

/** Turns push on for this page's user with Firefox's real PushManager; returns the new endpoint. */
export async function enablePush(world: World, page: Page): Promise<string> {
  await open(page, `/settings/push`);
  await eventually("the switch to be ready", async () => (await switchState(page)) === "false");
  const before = world.push.registrations.length;
  await page.locator(SWITCH).click();
  await eventually("the switch to turn on", async () => (await switchState(page)) === "true");
  const registration = world.push.registrations[before];
  assert.ok(registration, "Firefox registered a channel at the push service");
  const endpoint = await currentEndpoint(page);
  assert.equal(endpoint, registration.endpoint, "the page's subscription is the one Firefox registered");
  return registration.endpoint;
}

export async function submitClaim(page: Page, amount: string, receiptFrom: string): Promise<number> {
  await open(page, `/reimbursements`);
  await page.locator("input[name=amount]").fill(amount);
  await page.locator("input[name=receiptFrom]").fill(receiptFrom);
  await page.locator("form:has(input[name=amount]) button[type=submit]").click();
  await page.waitForSelector("::-p-text(Reimbursement request submitted.)");
  return eventually("the claim in the history", () =>
    page.evaluate((receipt) => {
      const row = [...document.querySelectorAll("tr")].find((tr) => tr.textContent?.includes(receipt));
      return Number(row?.querySelector("a")?.textContent) || null;
    }, receiptFrom),
  );
}

/** The approver's decision on the approval queue, as pat clicks it. */
export async function decide(
  page: Page,
  reimbursementId: number,
  decision: "Approve" | "Reject",
  onClick?: () => void,
) {
  await open(page, `/approvals`);
  const button = await page.waitForSelector(
    `li:has(a[href="/reimbursements/${reimbursementId}"]) button[aria-label^="${decision}:"]:not([disabled])`,
  );
  onClick?.();
  await button!.click();
  await page.waitForSelector(`::-p-text(was ${decision === "Approve" ? "approved" : "rejected"}.)`);
}
