// Push in Firefox ESR's own push stack, offline (SPEC F1–F4): Firefox subscribes with its real
// PushManager at our local push service, our sender encrypts and posts, Firefox decrypts and runs our
// service worker, and a real click on its notification window opens the claim. No Push API stub anywhere.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "puppeteer-core";
import {
  APP,
  clickAlert,
  closeAlerts,
  DEMO_PASSWORD,
  eventually,
  type ShownAlert,
  shownAlerts,
  signIn,
  startWorld,
  type World,
} from "./harness";

const SWITCH = "button[role=switch]";

let world: World;

before(async () => {
  world = await startWorld();
});

after(async () => {
  await world?.stop();
});

async function switchState(page: Page): Promise<string | null> {
  return page.$eval(SWITCH, (button) =>
    button.hasAttribute("disabled") ? "disabled" : button.getAttribute("aria-checked"),
  );
}

/** Turns push on for this page's user with Firefox's real PushManager; returns the new endpoint. */
async function enablePush(page: Page): Promise<string> {
  await page.bringToFront();
  await page.goto(`${APP}/settings/push`);
  await eventually("the switch to be ready", async () => (await switchState(page)) === "false");
  const before = world.push.registrations.length;
  await page.locator(SWITCH).click();
  await eventually("the switch to turn on", async () => (await switchState(page)) === "true");
  const registration = world.push.registrations[before];
  assert.ok(registration, "Firefox registered a channel at the push service");
  const endpoint = await page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.pushManager.getSubscription())?.endpoint ?? null;
  });
  assert.equal(endpoint, registration.endpoint, "the page's subscription is the one Firefox registered");
  return registration.endpoint;
}

/** A session for API calls as `username` (what a second device of that person does over HTTP). */
async function apiSession(username: string) {
  const jar: string[] = [];
  const call = async (
    method: string,
    path: string,
    init: { form?: Record<string, string>; json?: unknown } = {},
  ) => {
    const headers: Record<string, string> = { cookie: jar.join("; "), origin: APP };
    let body: string | undefined;
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams(init.form).toString();
    } else if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    const response = await fetch(`${APP}${path}`, { method, headers, body, redirect: "manual" });
    for (const cookie of response.headers.getSetCookie()) {
      const pair = cookie.split(";")[0]!;
      const name = pair.split("=")[0];
      const existing = jar.findIndex((entry) => entry.startsWith(`${name}=`));
      if (existing >= 0) jar.splice(existing, 1);
      jar.push(pair);
    }
    return response;
  };
  const { csrfToken } = (await (await call("GET", "/api/auth/csrf")).json()) as { csrfToken: string };
  const signedIn = await call("POST", "/api/auth/callback/credentials", {
    form: { csrfToken, username, password: DEMO_PASSWORD, callbackUrl: "/" },
  });
  assert.equal(signedIn.status, 302, `sign-in of ${username}`);
  assert.doesNotMatch(signedIn.headers.get("location") ?? "", /error/);
  return call;
}

function alertTitled(title: string, text?: string) {
  return async () =>
    (await shownAlerts(world)).find(
      (alert: ShownAlert) => alert.title === title && (text === undefined || alert.text.includes(text)),
    );
}

async function submitClaim(page: Page, amount: string, receiptFrom: string): Promise<number> {
  await page.bringToFront();
  await page.goto(`${APP}/reimbursements`);
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
async function decide(page: Page, reimbursementId: number, decision: "Approve" | "Reject") {
  await page.bringToFront();
  await page.goto(`${APP}/approvals`);
  await page
    .locator(`li:has(a[href="/reimbursements/${reimbursementId}"]) button[aria-label^="${decision}:"]`)
    .click();
  await page.waitForSelector(`::-p-text(was ${decision === "Approve" ? "approved" : "rejected"}.)`);
}

async function claimDetails(page: Page): Promise<string> {
  return page.$eval("dl", (dl) => dl.textContent ?? "");
}

/** A page of any context whose URL is `url`. */
async function pageAt(url: string): Promise<Page> {
  return eventually(`a window at ${url}`, async () =>
    (await world.browser.pages()).find((page) => page.url() === url),
  );
}

interface WorkerInfo {
  launchCount: number;
  running: boolean;
}

/** Our service worker as Firefox's service worker manager sees it (userContextId 0: bo's default context). */
function serviceWorker(action: "inspect" | "stop", userContextId = 0): Promise<WorkerInfo> {
  return world.chrome<WorkerInfo>(`
    const swm = Cc["@mozilla.org/serviceworkers/manager;1"].getService(Ci.nsIServiceWorkerManager);
    const all = swm.getAllRegistrations();
    for (let i = 0; i < all.length; i++) {
      const registration = all.queryElementAt(i, Ci.nsIServiceWorkerRegistrationInfo);
      if (registration.scope !== "${APP}/") continue;
      if (registration.principal.originAttributes.userContextId !== ${userContextId}) continue;
      const worker = registration.activeWorker;
      if (${JSON.stringify(action)} === "stop") worker.terminateWorker();
      return { launchCount: worker.launchCount, running: worker.lifetimeDeadline > 0 };
    }
    throw new Error("no service worker registered for ${APP}/");
  `);
}

describe("push in Firefox's own push stack", () => {
  let bo: Page;
  let pat: Page;
  let boEndpoint = "";

  before(async () => {
    bo = await world.browser.newPage();
    const patContext = await world.browser.createBrowserContext();
    pat = await patContext.newPage();
    await signIn(pat, "pat", "/approvals");
  });

  test("bo enables push; the switch stays on after a reload", async () => {
    await signIn(bo, "bo", "/settings/push");
    boEndpoint = await enablePush(bo);
    await bo.reload();
    await eventually(
      "the switch to show on after the reload",
      async () => (await switchState(bo)) === "true",
    );
    assert.match(await bo.$eval("body", (body) => body.textContent ?? ""), /This device/);
  });

  test("approve → Firefox shows the notification through our service worker → a real click opens the claim", async () => {
    const id = await submitClaim(bo, "59.95", "Joe's Pharmacy");
    await decide(pat, id, "Approve");
    const text = "Your reimbursement of $59.95 from Joe's Pharmacy was approved.";
    // SPEC F2: shown within 5 s of the approval.
    await eventually("Firefox to show the notification", alertTitled("Reimbursement Approved", text), 5_000);
    const delivery = world.push.deliveries.at(-1);
    assert.equal(delivery?.ackCode, 100, "Firefox decrypted the message and acknowledged it");
    assert.equal(world.push.registrationFor(boEndpoint)?.channelID, delivery?.channelID);

    await clickAlert(world, "Reimbursement Approved");
    const claim = await pageAt(`${APP}/reimbursements/${id}`);
    assert.equal(claim, bo, "the open window of the app was focused and navigated");
    await eventually("the claim to show APPROVED", async () => (await claimDetails(bo)).includes("APPROVED"));
    const details = await claimDetails(bo);
    assert.match(details, /\$59\.95/);
    assert.match(details, /Joe's Pharmacy/);
    assert.match(details, /PAT/);
  });

  test("with every tab closed and the service worker stopped, a push starts it and a click opens a window", async () => {
    const id = await submitClaim(bo, "12.50", "Closed Tab Bakery");
    await bo.close();
    await closeAlerts(world);
    const stopped = await serviceWorker("stop");
    assert.equal(stopped.running, false, "the worker is stopped before the push arrives");

    await decide(pat, id, "Reject");
    await eventually(
      "Firefox to show the notification",
      alertTitled(
        "Reimbursement Rejected",
        "Your reimbursement of $12.50 from Closed Tab Bakery was rejected.",
      ),
    );
    const woken = await serviceWorker("inspect");
    assert.equal(woken.launchCount, stopped.launchCount + 1, "the push launched the stopped worker");

    await clickAlert(world, "Reimbursement Rejected");
    bo = await pageAt(`${APP}/reimbursements/${id}`);
    await eventually("the claim to show REJECTED", async () => (await claimDetails(bo)).includes("REJECTED"));
  });
});
