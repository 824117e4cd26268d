// The world of a Firefox push test, started inside the offline network namespace made by run.mjs: a
// loopback relay to PostgreSQL, the local push service (Mozilla's WebSocket protocol ↔ RFC 8030), the app
// (e2e/support/serve.mjs on a fresh database) and Debian's Firefox ESR driven over WebDriver BiDi.
// Nothing here stubs the Push API: Firefox subscribes, receives, decrypts and shows by itself.
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { FirefoxPushService } from "../support/firefox-push-service";
import { NotificationDaemon } from "../support/notification-daemon";

const root = path.resolve(import.meta.dirname, "../..");

/** Ports inside the namespace (nothing else listens there): app, push HTTPS, push WebSocket, PG relay. */
export const PORTS = { app: 5800, pushHttps: 5801, pushWs: 5802, postgres: 5803 } as const;
export const APP = `http://localhost:${PORTS.app}`;
export const DEMO_PASSWORD = "demo";

/** Loopback port → unix socket that run.mjs relays to PostgreSQL in the root namespace. */
async function startPostgresRelay(): Promise<{ adminUrl: string; close: () => Promise<void> }> {
  const socketPath = process.env.FIREFOX_PG_SOCKET;
  const admin = process.env.FIREFOX_PG_ADMIN_URL;
  if (!socketPath || !admin) throw new Error("run the Firefox tests through e2e/firefox/run.mjs");
  const server = net.createServer((client) => {
    const upstream = net.connect(socketPath);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
  });
  await new Promise<void>((resolve) => server.listen(PORTS.postgres, "127.0.0.1", resolve));
  const url = new URL(admin);
  url.hostname = "127.0.0.1";
  url.port = String(PORTS.postgres);
  return {
    adminUrl: url.toString(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function waitForHealthy(url: string, server: ChildProcess, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the app server exited with ${server.exitCode}`);
    const ok = await fetch(url)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

/** Prefs for an offline, scriptable Firefox whose push client talks to our local service. */
export function firefoxPrefs(pushServerUrl: string): Record<string, unknown> {
  return {
    // Push: our service over ws:// (testing only), and back on after the remote agent turned it off.
    "dom.push.serverURL": pushServerUrl,
    "dom.push.testing.allowInsecureServerURL": true,
    "dom.push.connection.enabled": true,
    "dom.push.retryBaseInterval": 500,
    // Notifications: granted without a prompt, shown in Firefox's own alert windows (no D-Bus here).
    "permissions.default.desktop-notification": 1,
    "alerts.useSystemBackend": false,
    "alerts.disableSlidingEffect": true,
    // A worker with nothing to do stops after 1 s, so pushes also reach stopped workers.
    "dom.serviceWorkers.idle_timeout": 1000,
    "dom.serviceWorkers.idle_extended_timeout": 30_000,
    // Offline: no updates, telemetry, remote settings, captive portal, safe browsing, studies, DNS.
    "network.dns.native-is-localhost": true,
    "network.captive-portal-service.enabled": false,
    "network.connectivity-service.enabled": false,
    "app.update.enabled": false,
    "app.update.auto": false,
    "app.normandy.enabled": false,
    "app.shield.optoutstudies.enabled": false,
    "toolkit.telemetry.enabled": false,
    "toolkit.telemetry.unified": false,
    "datareporting.healthreport.uploadEnabled": false,
    "datareporting.policy.dataSubmissionEnabled": false,
    "services.settings.server": "http://127.0.0.1:9/v1",
    "browser.safebrowsing.malware.enabled": false,
    "browser.safebrowsing.phishing.enabled": false,
    "browser.safebrowsing.downloads.enabled": false,
    "browser.safebrowsing.blockedURIs.enabled": false,
    "extensions.update.enabled": false,
    "extensions.getAddons.cache.enabled": false,
    "browser.search.update": false,
    "browser.newtabpage.enabled": false,
    "browser.startup.homepage": "about:blank",
  };
}

export interface World {
  push: FirefoxPushService;
  /** The desktop's notification server, for Firefox's system alert backend (see useSystemAlerts). */
  desktop: NotificationDaemon;
  browser: Browser;
  /** Runs `expression` (a chrome-privileged script) in Firefox's main browser window; returns its value. */
  chrome<T>(expression: string): Promise<T>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const started: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const close of started.reverse()) await close().catch((error) => console.error(error));
  };
  try {
    const pg = await startPostgresRelay();
    started.push(pg.close);
    const push = await FirefoxPushService.start({ wsPort: PORTS.pushWs, httpsPort: PORTS.pushHttps });
    started.push(() => push.close());
    const desktop = await NotificationDaemon.start();
    started.push(() => desktop.stop());
    const app = spawn(process.execPath, [path.join(root, "e2e/support/serve.mjs")], {
      cwd: root,
      stdio: ["ignore", process.env.FIREFOX_APP_LOG ? "inherit" : "ignore", "inherit"],
      env: {
        ...process.env,
        PORT: String(PORTS.app),
        APP_URL: APP,
        TEST_DATABASE_URL: pg.adminUrl,
        E2E_DATABASE: `an_firefox_${Date.now().toString(36)}`,
        PUSH_ENDPOINT_ALLOWLIST: `localhost:${PORTS.pushHttps}`,
        NODE_EXTRA_CA_CERTS: path.join(root, "e2e/support/certs/ca.crt"),
      },
    });
    started.push(async () => {
      if (app.exitCode !== null) return;
      const exited = new Promise((resolve) => app.once("exit", resolve));
      app.kill("SIGTERM");
      await exited;
    });
    const browserStarting = puppeteer.launch({
      browser: "firefox",
      protocol: "webDriverBiDi",
      executablePath: process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr",
      headless: true,
      // Chrome-privileged scripts: the only way to see and click Firefox's own notification windows.
      args: ["--remote-allow-system-access"],
      extraPrefsFirefox: firefoxPrefs(push.url),
      env: {
        ...process.env,
        MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1",
        DBUS_SESSION_BUS_ADDRESS: desktop.busAddress,
      },
    });
    started.push(async () => (await browserStarting).close());
    await waitForHealthy(`${APP}/api/health`, app, 240_000);
    const browser = await browserStarting;
    const connection = (browser as unknown as { connection: BiDiConnection }).connection;
    const chromeContext = async () => {
      const { result } = await connection.send("browsingContext.getTree", { "moz:scope": "chrome" });
      const contexts = result.contexts as { context: string; url: string }[];
      const main = contexts.find((c) => c.url === "chrome://browser/content/browser.xhtml");
      if (!main) throw new Error("no Firefox browser window");
      return main.context;
    };
    const chrome = async <T>(expression: string): Promise<T> => {
      const { result } = await connection.send("script.evaluate", {
        expression: `(async () => JSON.stringify(await (async () => { ${expression} })()))()`,
        target: { context: await chromeContext() },
        awaitPromise: true,
      });
      if (result.type === "exception") throw new Error(`chrome script failed: ${JSON.stringify(result)}`);
      const value = result.result?.value;
      return (typeof value === "string" ? JSON.parse(value) : undefined) as T;
    };
    return { push, desktop, browser, chrome, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface BiDiConnection {
  // biome-ignore lint/suspicious/noExplicitAny: raw WebDriver BiDi answers
  send(method: string, params: Record<string, unknown>): Promise<{ result: any }>;
}

/** Signs in through the real form, as a person does. */
export async function signIn(page: Page, username: string, callbackPath = "/"): Promise<void> {
  // Background tabs get no animation frames, which puppeteer's locators wait for: act in the front tab.
  await page.bringToFront();
  await page.goto(`${APP}/signin?callbackUrl=${encodeURIComponent(callbackPath)}`);
  await page.locator("input[name=username]").fill(username);
  await page.locator("input[name=password]").fill(DEMO_PASSWORD);
  await page.locator("button[type=submit]").click();
  await eventually(`sign-in of ${username}`, async () => !page.url().includes("/signin"));
}

/** Polls `check` until it returns something truthy (no fixed sleeps). */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface ShownAlert {
  title: string;
  text: string;
  source: string;
}

/** The notifications Firefox is showing right now: its own alert windows, read from chrome. */
export function shownAlerts(world: World): Promise<ShownAlert[]> {
  return world.chrome<ShownAlert[]>(`
    return [...Services.wm.getEnumerator("alert:alert")].map((w) => ({
      title: w.document.getElementById("alertTitleLabel")?.value ?? "",
      text: w.document.getElementById("alertTextLabel")?.textContent ?? "",
      source: w.document.getElementById("alertSourceLabel")?.value ?? "",
    }));
  `);
}

/**
 * A real click on a notification: mouse down and up synthesized by the widget layer in the alert window,
 * the same path as a person's click, which makes Firefox fire `notificationclick` in our service worker.
 */
export async function clickAlert(world: World, title: string): Promise<void> {
  const clicked = await world.chrome<boolean>(`
    const w = [...Services.wm.getEnumerator("alert:alert")].find(
      (w) => w.document.getElementById("alertTitleLabel")?.value === ${JSON.stringify(title)},
    );
    if (!w) return false;
    const label = w.document.getElementById("alertTextLabel");
    const rect = label.getBoundingClientRect();
    const x = rect.left + Math.min(10, rect.width / 2);
    const y = rect.top + rect.height / 2;
    // Window.synthesizeMouseEvent (chrome only) goes through the widget layer like a person's click.
    for (const type of ["mousedown", "mouseup"]) {
      w.synthesizeMouseEvent(type, x, y, { button: 0, clickCount: 1 }, { isDOMEventSynthesized: false });
    }
    return true;
  `);
  if (!clicked) throw new Error(`no notification titled "${title}" is showing`);
}

/** Closes every notification window (between tests). */
export function closeAlerts(world: World): Promise<number> {
  return world.chrome<number>(`
    const windows = [...Services.wm.getEnumerator("alert:alert")];
    for (const w of windows) w.close();
    return windows.length;
  `);
}

/** The text of a claim's details (the `dl` of /reimbursements/<id>). */
export function claimDetails(page: Page): Promise<string> {
  return page.$eval("dl", (dl) => dl.textContent ?? "");
}

export interface RecordedAlert extends ShownAlert {
  /** Date.now() when Firefox's notification window finished loading. */
  shownAt: number;
}

/** From now on, records every notification window Firefox opens (chrome-side window listener). */
export async function recordAlerts(world: World): Promise<void> {
  await world.chrome(`
    if (window.__recordedAlerts) return true;
    window.__recordedAlerts = [];
    Services.wm.addListener({
      onOpenWindow(appWindow) {
        const w = appWindow.docShell.domWindow;
        w.addEventListener("load", () => {
          if (w.document.documentElement.getAttribute("windowtype") !== "alert:alert") return;
          // alert.js reads title and text from the window arguments (prefillAlertInfo).
          window.__recordedAlerts.push({
            title: String(w.arguments[1]), text: String(w.arguments[2]), source: "", shownAt: Date.now(),
          });
        }, { once: true });
      },
      onCloseWindow() {},
    });
    return true;
  `);
}

export function recordedAlerts(world: World): Promise<RecordedAlert[]> {
  return world.chrome<RecordedAlert[]>("return window.__recordedAlerts ?? [];");
}

/**
 * Where Firefox shows notifications from now on: its own alert windows (the default here, as on a Linux
 * desktop without a notification server) or the desktop's notification server over D-Bus (libnotify),
 * which shows the action buttons.
 */
export async function useSystemAlerts(world: World, on: boolean): Promise<void> {
  await world.chrome(`Services.prefs.setBoolPref("alerts.useSystemBackend", ${on}); return true;`);
}

/**
 * Navigates like a person typing the address or reloading. Next.js' router may still be refreshing the
 * page (router.refresh after a change) and turn that aborted refresh into a navigation of its own, which
 * supersedes ours (NS_BINDING_ABORTED): wait for the network to settle first, and retry once.
 */
async function settleThen(page: Page, navigate: () => Promise<unknown>): Promise<void> {
  await page.waitForNetworkIdle({ idleTime: 300, timeout: 10_000 }).catch(() => {});
  try {
    await navigate();
  } catch (error) {
    if (!String(error).includes("NS_BINDING_ABORTED")) throw error;
    await page.waitForNetworkIdle({ idleTime: 300, timeout: 10_000 }).catch(() => {});
    await navigate();
  }
}

export function reload(page: Page): Promise<void> {
  return settleThen(page, () => page.reload());
}

/** Brings the page to the front and opens `path` of the app in it. */
export async function open(page: Page, path: string): Promise<void> {
  await page.bringToFront();
  await settleThen(page, () => page.goto(`${APP}${path}`));
}
