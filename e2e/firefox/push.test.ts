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
      (alert: ShownAlert) => alert.title === title && (text === undefined || alert.text === text),
    );
}

describe("push in Firefox's own push stack", () => {
  test("bo enables push; the switch stays on after a reload", async () => {
    const page = await world.browser.newPage();
    await signIn(page, "bo", "/settings/push");
    await enablePush(page);
    await page.reload();
    await eventually(
      "the switch to show on after the reload",
      async () => (await switchState(page)) === "true",
    );
    await page.close();
  });
});
