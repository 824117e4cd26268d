// Service worker of Approval Notifications: shows pushed notifications, routes taps into the app, and
// keeps the server's copy of the subscription current. Served with no-cache (next.config.mjs).
importScripts("/sw-logic.js");

const ORIGIN = self.location.origin;

self.addEventListener("install", () => {
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", (event) => {
  let text = "";
  try {
    text = event.data ? event.data.text() : "";
  } catch (_error) {
    text = "";
  }
  const shown = self.SwLogic.parsePushData(text, ORIGIN);
  // iOS revokes the subscription of a push that shows nothing: always show a notification.
  event.waitUntil(self.registration.showNotification(shown.title, shown.options));
});

async function openOrFocus(url) {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  let client = self.SwLogic.chooseClient(windows, url, ORIGIN);
  if (client) {
    if (client.url !== url && typeof client.navigate === "function") {
      try {
        client = (await client.navigate(url)) || client;
      } catch (_error) {
        return self.clients.openWindow(url);
      }
    }
    try {
      return await client.focus();
    } catch (_error) {
      return client;
    }
  }
  return self.clients.openWindow(url);
}

/**
 * An action that calls the app's API (Approve / Reject) runs with the user's session, like the page's
 * buttons; the result is shown as a notification. Any failure opens the page instead, so nothing is lost.
 */
async function runAction(postUrl, url, notification) {
  try {
    const response = await fetch(postUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    const body = await response.json().catch(() => ({}));
    if (response.ok) {
      await self.registration.showNotification(body.title || "Done", {
        body: body.message || "",
        icon: notification.icon || undefined,
        badge: notification.badge || undefined,
        tag: notification.tag || undefined,
        data: { url, actions: {}, posts: {} },
      });
      return;
    }
  } catch (_error) {
    // Offline or signed out: fall through to opening the page.
  }
  await openOrFocus(url);
}

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const data = event.notification.data;
  const url = self.SwLogic.clickTarget(data, event.action, ORIGIN);
  const postUrl = self.SwLogic.actionPost(data, event.action, ORIGIN);
  event.waitUntil(postUrl ? runAction(postUrl, url, event.notification) : openOrFocus(url));
});

async function resubscribe(oldSubscription, newSubscription) {
  let subscription = newSubscription;
  if (!subscription) {
    const response = await fetch("/api/push/public-key", { credentials: "same-origin" });
    if (!response.ok) return;
    const key = (await response.json()).publicKey;
    subscription = await self.registration.pushManager.subscribe({
      userVisibleOnly: true,
      applicationServerKey: key,
    });
  }
  const body = subscription.toJSON();
  if (oldSubscription?.endpoint) body.oldEndpoint = oldSubscription.endpoint;
  await fetch("/api/push/subscriptions", {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

self.addEventListener("pushsubscriptionchange", (event) => {
  event.waitUntil(resubscribe(event.oldSubscription, event.newSubscription));
});

// ---------------------------------------------------------------------------------------------------
// Offline: a self-contained block (no shared state with the notification code above). Pages are fetched
// from the network first and a copy is kept, so a page seen before (a claim's detail opened from a
// notification, say) opens offline too; anything else offline gets /offline.html. Next's hashed static
// files are immutable: served from the cache once fetched. API calls and other origins are left alone.
(() => {
  const SHELL_CACHE = "shell-v1";
  const PAGES_CACHE = "pages-v1";
  const STATIC_CACHE = "static-v1";
  const SHELL = ["/offline.html", "/icons/icon-192.png", "/icons/badge-72.png", "/manifest.webmanifest"];
  const KEEP = [SHELL_CACHE, PAGES_CACHE, STATIC_CACHE];

  self.addEventListener("install", (event) => {
    event.waitUntil(
      caches
        .open(SHELL_CACHE)
        .then((cache) => cache.addAll(SHELL))
        .catch(() => {}),
    );
  });

  self.addEventListener("activate", (event) => {
    event.waitUntil(
      caches
        .keys()
        .then((keys) =>
          Promise.all(keys.filter((key) => !KEEP.includes(key)).map((key) => caches.delete(key))),
        ),
    );
  });

  async function page(request) {
    const url = new URL(request.url);
    // Signed out (or signing in as someone else): forget the pages kept for the previous user.
    if (url.pathname === "/signin") await caches.delete(PAGES_CACHE);
    try {
      const response = await fetch(request);
      if (response.ok && !response.redirected && url.pathname !== "/signin") {
        const copy = response.clone();
        caches
          .open(PAGES_CACHE)
          .then((cache) => cache.put(url.pathname + url.search, copy))
          .catch(() => {});
      }
      return response;
    } catch (_error) {
      const kept = await caches.match(url.pathname + url.search, { cacheName: PAGES_CACHE });
      return kept || (await caches.match("/offline.html")) || Response.error();
    }
  }

  async function staticFile(request) {
    const cached = await caches.match(request, { cacheName: STATIC_CACHE });
    if (cached) return cached;
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      caches
        .open(STATIC_CACHE)
        .then((cache) => cache.put(request, copy))
        .catch(() => {});
    }
    return response;
  }

  self.addEventListener("fetch", (event) => {
    const { request } = event;
    if (request.method !== "GET") return;
    const url = new URL(request.url);
    if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
    if (request.mode === "navigate") event.respondWith(page(request));
    else if (url.pathname.startsWith("/_next/static/") || url.pathname.startsWith("/icons/")) {
      event.respondWith(staticFile(request));
    }
  });
})();
