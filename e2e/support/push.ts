import { type BrowserContext, expect, type Page } from "@playwright/test";

export const PUSH_CONTROL = process.env.PUSH_DOUBLE_CONTROL ?? "http://127.0.0.1:4101";
const STORAGE_KEY = "push-double-subscription";

/**
 * Headless Chromium cannot reach a real push service, so PushManager is replaced in the page: subscribe()
 * asks the push service double for a subscription (keys only the double can decrypt) and keeps it in
 * localStorage, so the state survives reloads like a real one. Everything after that is real.
 */
export async function stubPushManager(context: BrowserContext, options: { endpointOverride?: string } = {}) {
  // The page's Content-Security-Policy (connect-src 'self') rightly forbids fetching the double's control
  // API from the page, so the stub asks it through a Playwright binding that runs in the test process.
  await context.exposeBinding("__pushDoubleSubscribe", async (_source, applicationServerKey: string) => {
    const response = await fetch(`${PUSH_CONTROL}/subscriptions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ applicationServerKey }),
    });
    return response.json();
  });
  await context.addInitScript(
    ({ key, endpointOverride }) => {
      const toBuffer = (base64url: string) => {
        const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
        const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
        return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
      };
      const toBase64url = (value: BufferSource | string) => {
        if (typeof value === "string") return value;
        const bytes = new Uint8Array(value instanceof ArrayBuffer ? value : value.buffer);
        return btoa(String.fromCharCode(...bytes))
          .replace(/\+/g, "-")
          .replace(/\//g, "_")
          .replace(/=+$/, "");
      };
      type Stored = {
        endpoint: string;
        keys: { p256dh: string; auth: string };
        applicationServerKey: string;
      };
      const wrap = (stored: Stored) => ({
        endpoint: stored.endpoint,
        expirationTime: null,
        options: { userVisibleOnly: true, applicationServerKey: toBuffer(stored.applicationServerKey) },
        getKey: (name: "p256dh" | "auth") => toBuffer(stored.keys[name]),
        toJSON: () => ({ endpoint: stored.endpoint, expirationTime: null, keys: stored.keys }),
        unsubscribe: async () => {
          localStorage.removeItem(key);
          return true;
        },
      });
      PushManager.prototype.subscribe = async function subscribe(options?: PushSubscriptionOptionsInit) {
        const subscribe = (window as unknown as { __pushDoubleSubscribe: (key: string) => Promise<Stored> })
          .__pushDoubleSubscribe;
        const stored = await subscribe(toBase64url(options?.applicationServerKey ?? ""));
        if (endpointOverride) stored.endpoint = endpointOverride;
        localStorage.setItem(key, JSON.stringify(stored));
        return wrap(stored) as unknown as PushSubscription;
      };
      PushManager.prototype.getSubscription = async function getSubscription() {
        const stored = localStorage.getItem(key);
        return (stored ? wrap(JSON.parse(stored)) : null) as unknown as PushSubscription;
      };
    },
    { key: STORAGE_KEY, endpointOverride: options.endpointOverride ?? "" },
  );
}

export async function currentDoubleSubscriptionId(page: Page): Promise<string> {
  const stored = await page.evaluate((key) => localStorage.getItem(key), STORAGE_KEY);
  if (!stored) throw new Error("this page has no push subscription");
  return (JSON.parse(stored) as { id: string }).id;
}

/** Waits until the push service double has received (and decrypted) a message for the subscription. */
export async function waitForPushMessage(subscriptionId: string, count = 1): Promise<{ payload: string }> {
  let messages: { payload: string }[] = [];
  await expect
    .poll(
      async () => {
        const response = await fetch(`${PUSH_CONTROL}/messages?subscription=${subscriptionId}`);
        messages = (await response.json()) as { payload: string }[];
        return messages.length;
      },
      { timeout: 10_000, message: "the push service double should receive the notification" },
    )
    .toBeGreaterThanOrEqual(count);
  return messages[count - 1]!;
}

/** Hands a decrypted payload to the page's real service worker (CDP ServiceWorker.deliverPushMessage). */
export async function deliverToServiceWorker(page: Page, payload: string): Promise<void> {
  const origin = new URL(page.url()).origin;
  const cdp = await page.context().newCDPSession(page);
  // The browser reports the registrations of every context on this origin (the approver's, say): deliver
  // to the one whose worker controls this page.
  const { targetInfo } = await cdp.send("Target.getTargetInfo");
  const versions: { registrationId: string; controlledClients?: string[] }[] = [];
  cdp.on("ServiceWorker.workerVersionUpdated", (event) => versions.push(...event.versions));
  await cdp.send("ServiceWorker.enable");
  await page.evaluate(() => navigator.serviceWorker.ready);
  await expect
    .poll(() => versions.some((v) => v.controlledClients?.includes(targetInfo.targetId)), {
      message: "this page should be controlled by its service worker",
    })
    .toBe(true);
  const { registrationId } = versions.findLast((v) => v.controlledClients?.includes(targetInfo.targetId))!;
  await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: payload });
  await cdp.detach();
}

export interface ShownNotification {
  title: string;
  body: string;
  tag: string;
  icon: string;
  data: { url: string };
}

export async function shownNotifications(page: Page): Promise<ShownNotification[]> {
  return page.evaluate(async () => {
    const registration = await navigator.serviceWorker.ready;
    return (await registration.getNotifications()).map((n) => ({
      title: n.title,
      body: n.body,
      tag: n.tag,
      icon: n.icon,
      data: n.data,
    }));
  });
}

/**
 * A tap cannot be driven from DevTools, so the same event the browser would fire is dispatched inside the
 * service worker, with the notification it is showing.
 */
export async function clickNotification(context: BrowserContext, title: string): Promise<void> {
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent("serviceworker"));
  // A push just delivered is shown once the worker's push handler ran: wait until it is showing.
  await expect
    .poll(
      () =>
        worker.evaluate(async (wanted) => {
          const scope = self as unknown as ServiceWorkerGlobalScope;
          const notification = (await scope.registration.getNotifications()).find((n) => n.title === wanted);
          if (!notification) return false;
          scope.dispatchEvent(new NotificationEvent("notificationclick", { notification }));
          return true;
        }, title),
      { message: `a notification titled "${title}" should be showing`, timeout: 10_000 },
    )
    .toBe(true);
}
