// Push in Firefox ESR's own push stack, offline (SPEC F1–F4): Firefox subscribes with its real
// PushManager at our local push service, our sender encrypts and posts, Firefox decrypts and runs our
// service worker, and a real click on its notification window opens the claim. No Push API stub anywhere.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Page } from "puppeteer-core";
import {
  APP,
  claimDetails,
  clickAlert,
  closeAlerts,
  eventually,
  open,
  reload,
  type ShownAlert,
  shownAlerts,
  signIn,
  startWorld,
  useSystemAlerts,
  type World,
} from "./harness";
import { currentEndpoint, decide, enablePush, SWITCH, submitClaim, switchState } from "./story";

let world: World;

before(async () => {
  world = await startWorld();
});

after(async () => {
  await world?.stop();
});

function alertTitled(title: string, text?: string) {
  return async () =>
    (await shownAlerts(world)).find(
      (alert: ShownAlert) => alert.title === title && (text === undefined || alert.text.includes(text)),
    );
}

/** `page` if it is still open, else a new tab in bo's (default) context. */
async function pageOf(page: Page): Promise<Page> {
  return page.isClosed() ? world.browser.newPage() : page;
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
    boEndpoint = await enablePush(world, bo);
    await reload(bo);
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

  test("the approver gets “New reimbursement claim”; its click opens the task, which pat approves", async () => {
    await enablePush(world, pat);
    const receipt = `Action Shop ${Date.now()}`;
    bo = await pageOf(bo);
    const id = await submitClaim(bo, "44.00", receipt);
    await eventually(
      "Firefox to show the approver's notification",
      alertTitled("New reimbursement claim", `Claim for $44.00 from ${receipt} by BO`),
    );
    await clickAlert(world, "New reimbursement claim");
    const queue = await eventually("pat's window at the task", async () =>
      (await world.browser.pages()).find((page) => /\/approvals\?task=\d+$/.test(page.url())),
    );
    assert.equal(queue, pat, "pat's own window (his browser context) was navigated");
    await decide(pat, id, "Approve");
    await eventually(
      "bo's notification",
      alertTitled("Reimbursement Approved", `Your reimbursement of $44.00 from ${receipt} was approved.`),
    );
  });

  test("the approver's Approve and Reject buttons work in Firefox (desktop notification server)", async () => {
    // Firefox's own alert windows show no buttons; on a desktop with a notification server (libnotify
    // over D-Bus) it shows them, and a press comes back as ActionInvoked, as when a person clicks it.
    await useSystemAlerts(world, true);
    try {
      const stamp = Date.now();
      bo = await pageOf(bo);
      const approveId = await submitClaim(bo, "31.00", `Button Shop A ${stamp}`);
      const rejectId = await submitClaim(bo, "32.00", `Button Shop R ${stamp}`);
      const claimNotification = (receipt: string) =>
        eventually(`the desktop notification for ${receipt}`, async () =>
          world.desktop.shown.find(
            (n) => n.summary === "New reimbursement claim" && n.body.includes(receipt),
          ),
        );
      const toApprove = await claimNotification(`Button Shop A ${stamp}`);
      assert.deepEqual(toApprove.actions, [
        "default",
        "Activate",
        "approve-moz",
        "Approve",
        "reject-moz",
        "Reject",
      ]);
      world.desktop.pressAction(toApprove, "approve-moz");
      await eventually("the service worker's confirmation", async () =>
        world.desktop.shown.find(
          (n) => n.summary === "Claim approved" && n.body.includes(`Button Shop A ${stamp}`),
        ),
      );
      world.desktop.pressAction(await claimNotification(`Button Shop R ${stamp}`), "reject-moz");
      await eventually("the service worker's confirmation", async () =>
        world.desktop.shown.find(
          (n) => n.summary === "Claim rejected" && n.body.includes(`Button Shop R ${stamp}`),
        ),
      );
      for (const [id, status] of [
        [approveId, "APPROVED"],
        [rejectId, "REJECTED"],
      ] as const) {
        await open(bo, `/reimbursements/${id}`);
        const details = await claimDetails(bo);
        assert.match(details, new RegExp(status));
        assert.match(details, /PAT/);
      }
    } finally {
      await useSystemAlerts(world, false);
    }
  });

  test("pushsubscriptionchange: the push service forgets Firefox, our worker resubscribes and the server follows", async () => {
    const old = world.push.registrationFor(boEndpoint);
    assert.ok(old, "bo's subscription is registered");
    world.push.renewUaidOnNextHello();
    world.push.dropConnections();
    // Firefox reconnects, gets a new UAID, drops its subscriptions and fires pushsubscriptionchange; our
    // service worker subscribes again (a new channel) and posts the new endpoint with the old one.
    await world.push.waitFor("Firefox's hello answered with a new UAID", () =>
      world.push.hellos.find((hello) => hello.sent === old.uaid && hello.answered !== old.uaid),
    );
    bo = await pageOf(bo);
    await open(bo, `/settings/push`);
    const renewedEndpoint = await eventually("bo's renewed subscription", async () => {
      const endpoint = await currentEndpoint(bo);
      return endpoint && endpoint !== boEndpoint ? endpoint : null;
    });
    const renewed = world.push.registrationFor(renewedEndpoint);
    assert.ok(renewed && renewed.uaid !== old.uaid, "registered under the new UAID");
    await eventually("the server to know the renewed subscription", async () => {
      await reload(bo);
      await eventually("the switch to settle", async () => (await switchState(bo)) !== "disabled");
      return (await switchState(bo)) === "true";
    });
    const devices = await bo.$$eval(".device", (items) => items.length);
    assert.equal(devices, 1, "the old endpoint was replaced, not kept beside the new one");
    boEndpoint = renewed.endpoint;

    const id = await submitClaim(bo, "7.25", "Renewed Kiosk");
    await decide(pat, id, "Approve");
    await eventually(
      "the notification through the renewed subscription",
      alertTitled("Reimbursement Approved", "Your reimbursement of $7.25 from Renewed Kiosk was approved."),
    );
    assert.equal(world.push.deliveries.at(-1)?.channelID, renewed.channelID);
  });

  test("after an administrator regenerates the VAPID key, Firefox's page resets and re-enables with the new key", async () => {
    const old = world.push.registrationFor(boEndpoint);
    assert.ok(old);
    const admin = await (await world.browser.createBrowserContext()).newPage();
    await signIn(admin, "admin", "/admin/push-queue");
    await admin.locator("button.push-right::-p-text(Regenerate credentials)").click();
    await admin.locator("dialog input").fill("REGENERATE");
    await admin.locator("dialog button[type=submit]").click();
    await admin.waitForSelector("::-p-text(New credentials created.)");
    await admin.close();

    // The page compares the subscription's applicationServerKey (PushSubscription.options) with the
    // server's: Firefox must report it for the stale subscription to be noticed and dropped.
    bo = await pageOf(bo);
    await open(bo, `/settings/push`);
    await bo.waitForSelector("::-p-text(Push notifications were reset for all devices.)");
    assert.equal(await switchState(bo), "false");
    await world.push.waitFor("Firefox's unregister of the stale channel", () =>
      world.push.unregistrations.find((r) => r.channelID === old.channelID),
    );
    boEndpoint = await enablePush(world, bo);
    const renewed = world.push.registrationFor(boEndpoint);
    assert.ok(
      renewed && renewed.applicationServerKey !== old.applicationServerKey,
      "subscribed with the new key",
    );

    const id = await submitClaim(bo, "3.50", "New Key Cafe");
    await decide(pat, id, "Approve");
    await eventually(
      "the notification signed with the new key",
      alertTitled("Reimbursement Approved", "Your reimbursement of $3.50 from New Key Cafe was approved."),
    );
  });

  test("disable removes the device and unsubscribes at the push service", async () => {
    bo = await pageOf(bo);
    await open(bo, `/settings/push`);
    await eventually("the switch to be on", async () => (await switchState(bo)) === "true");
    const channel = world.push.registrationFor(boEndpoint)?.channelID;
    await bo.locator(SWITCH).click();
    await eventually("the switch to turn off", async () => (await switchState(bo)) === "false");
    await bo.waitForSelector("::-p-text(No device has push notifications enabled yet.)");
    await world.push.waitFor("Firefox's unregister", () =>
      world.push.unregistrations.find((r) => r.channelID === channel),
    );
    const subscription = await bo.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready;
      return registration.pushManager.getSubscription();
    });
    assert.equal(subscription, null);
  });
});
