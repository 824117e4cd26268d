// Headers and secrets (issue 8 §5): security headers on every kind of response, a CSP under which the
// app and its service worker still run, session cookies HttpOnly/SameSite (and Secure behind https), and
// the VAPID private key never sent to a browser nor stored in clear.
import { createDecipheriv, hkdfSync } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, request, test } from "@playwright/test";
import { accessMatrix } from "./support/access-matrix";
import { E2E_SECRET, e2eDatabase } from "./support/db";
import { signIn } from "./support/fixtures";
import { requestAs, signInRequest } from "./support/session";

test.describe.configure({ mode: "parallel" });

test.skip(({ isMobile }) => isMobile, "headers do not depend on the viewport");

test("every kind of response carries the security headers", async ({ baseURL }) => {
  const admin = await requestAs(baseURL!, "admin");
  const anonymous = await request.newContext({ baseURL });
  const html = await (await anonymous.get("/signin")).text();
  const chunk = /\/_next\/static\/[^"]+\.js/.exec(html)?.[0];
  expect(chunk, "a Next.js script on the sign-in page").toBeTruthy();
  const responses = [
    await anonymous.get("/signin"),
    await anonymous.get("/", { maxRedirects: 0 }),
    await anonymous.get("/api/health"),
    await anonymous.get("/api/push/public-key"),
    await anonymous.get("/sw.js"),
    await anonymous.get("/manifest.webmanifest"),
    await anonymous.get(chunk!),
    await anonymous.get("/no-such-page"),
    await admin.get("/admin/push-queue"),
    await admin.get("/api/executions?scope=all"),
  ];
  for (const response of responses) {
    const headers = response.headers();
    const what = `${response.status()} ${response.url()}`;
    const csp = headers["content-security-policy"] ?? "";
    for (const directive of [
      "default-src 'self'",
      "frame-ancestors 'none'",
      "object-src 'none'",
      "base-uri 'self'",
      "connect-src 'self'",
      "worker-src 'self'",
      "form-action 'self'",
    ]) {
      expect(csp, `${what}: ${directive}`).toContain(directive);
    }
    expect(csp, `${what}: no eval in production`).not.toContain("unsafe-eval");
    const scriptSrc = /script-src ([^;]*)/.exec(csp)?.[1] ?? "";
    expect(scriptSrc, `${what}: script-src`).toMatch(/^'self'/);
    expect(scriptSrc, `${what}: no inline scripts (SPEC H6)`).not.toContain("unsafe-inline");
    expect(headers["x-content-type-options"], what).toBe("nosniff");
    expect(headers["referrer-policy"], what).toBe("strict-origin-when-cross-origin");
    expect(headers["x-frame-options"], what).toBe("DENY");
    expect(headers["x-powered-by"], what).toBeUndefined();
  }
  await admin.dispose();
  await anonymous.dispose();
});

test("pages get a fresh CSP nonce per request, on every script Next.js writes", async ({ baseURL }) => {
  const anonymous = await request.newContext({ baseURL });
  const nonces = new Set<string>();
  for (let i = 0; i < 3; i++) {
    const response = await anonymous.get("/signin");
    const csp = response.headers()["content-security-policy"] ?? "";
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp)?.[1];
    expect(nonce, "a nonce in script-src").toBeTruthy();
    expect(csp).toContain("'strict-dynamic'");
    nonces.add(nonce!);
    const html = await response.text();
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((m) => m[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag, "every script carries the nonce").toContain(`nonce="${nonce}"`);
  }
  expect(nonces.size, "a new nonce each time").toBe(3);
  await anonymous.dispose();
});

test("under the CSP the app runs, its service worker registers, and nothing is refused", async ({ page }) => {
  test.setTimeout(180_000);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`Refused to load (CSP ${event.violatedDirective}): ${event.blockedURI}`);
    });
  });
  await signIn(page, "bo");
  await page.goto("/reimbursements");
  await expect(page.getByRole("heading", { name: /reimbursement/i }).first()).toBeVisible();
  // Client-side navigation and a server action under the policy.
  await page.getByLabel("Amount").fill("1.23");
  await page.getByLabel("Receipt From").fill("CSP check");
  await page.getByRole("button", { name: /submit/i }).click();
  await expect(page.getByText("Reimbursement request submitted.")).toBeVisible();
  const scope = await page.evaluate(async () => (await navigator.serviceWorker.ready).scope);
  expect(scope).toMatch(/\/$/);
  await page.goto("/settings/push");
  await expect(page.getByText(/Enable push notifications on this device/)).toBeVisible();
  // The other pages, each rendered with its own nonce; client navigation between two of them.
  for (const [path, heading] of [
    ["/", /Approval Notifications|Home|Welcome/i],
    ["/departments", /Departments/],
    ["/processing/status", /Processing status/i],
    ["/processing/history", /Processing history/i],
    ["/data-load", /Data load/i],
    ["/executions", /executions/i],
    ["/settings", /Settings/],
  ] as const) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first()).toHaveText(heading);
  }
  await page
    .getByRole("link", { name: /Push Notifications/ })
    .first()
    .click();
  await expect(page).toHaveURL(/\/settings\/push$/);
  await page.goto("/no-such-page");
  await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
  expect(violations).toEqual([]);
});

test("administrator pages run under the CSP without violations", async ({ page }) => {
  test.setTimeout(180_000);
  const violations: string[] = [];
  page.on("console", (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  await page.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      console.error(`Refused to load (CSP ${event.violatedDirective}): ${event.blockedURI}`);
    });
  });
  await signIn(page, "admin");
  for (const path of [
    "/approvals",
    "/admin/push-queue",
    "/admin/subscriptions",
    "/admin/executions",
    "/admin/users",
  ]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { level: 1 }).first()).toBeVisible();
    // Hydrated: React attached its handlers (a client component answers).
    await page.waitForFunction(() => document.readyState === "complete");
  }
  expect(violations).toEqual([]);
});

test("a page of the app cannot be framed by another site", async ({ page, baseURL }) => {
  await page.setContent('<iframe id="f" src="about:blank"></iframe>');
  await page.locator("#f").evaluate((frame, url) => {
    (frame as HTMLIFrameElement).src = `${url}/signin`;
  }, baseURL);
  const child = () => page.frames().find((frame) => frame !== page.mainFrame());
  // Chromium replaces a refused frame with its error page instead of the app.
  await expect.poll(() => child()?.url() ?? "", { timeout: 10_000 }).not.toBe("about:blank");
  await page.waitForTimeout(300);
  expect(child()?.url()).not.toBe(`${baseURL}/signin`);
  expect(await child()!.locator("form").count()).toBe(0);
});

test("session cookies are HttpOnly and SameSite=Lax, and Secure with __Secure- behind https", async ({
  baseURL,
}) => {
  const plain = await request.newContext({ baseURL });
  const cookie = (await signInRequest(plain, "bo"))
    .headersArray()
    .find((h) => /^set-cookie$/i.test(h.name) && /session-token/.test(h.value));
  expect(cookie?.value).toMatch(/^authjs\.session-token=/);
  expect(cookie?.value).toMatch(/;\s*HttpOnly/i);
  expect(cookie?.value).toMatch(/;\s*SameSite=Lax/i);
  await plain.dispose();

  // Behind a TLS-terminating proxy (X-Forwarded-Proto: https) next-auth switches to secure cookies.
  const secure = await request.newContext({ baseURL });
  const forwarded = { "x-forwarded-proto": "https" };
  const headers = (await signInRequest(secure, "bo", forwarded)).headersArray();
  const secureCookie = headers.find((h) => /^set-cookie$/i.test(h.name) && /session-token/.test(h.value));
  expect(secureCookie?.value).toMatch(/^__Secure-authjs\.session-token=/);
  expect(secureCookie?.value).toMatch(/;\s*Secure/i);
  expect(secureCookie?.value).toMatch(/;\s*HttpOnly/i);
  expect(secureCookie?.value).toMatch(/;\s*SameSite=Lax/i);
  await secure.dispose();
});

/** The VAPID private key, opened from the database with the app secret (lib/push/secret-box.ts). */
async function vapidKeys(): Promise<{ publicKey: string; privateKey: string; stored: string }> {
  const sql = e2eDatabase();
  try {
    const [row] = await sql<{ public_key: string; private_key_encrypted: string; whole: string }[]>`
      select public_key, private_key_encrypted, row_to_json(c)::text as whole from push_credentials c`;
    const [, iv, tag, data] = row!.private_key_encrypted.split(".") as [string, string, string, string];
    const key = Buffer.from(
      hkdfSync("sha256", E2E_SECRET, "approval-notifications", "vapid-private-key", 32),
    );
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    const privateKey = Buffer.concat([
      decipher.update(Buffer.from(data, "base64url")),
      decipher.final(),
    ]).toString();
    return { publicKey: row!.public_key, privateKey, stored: row!.whole };
  } finally {
    await sql.end();
  }
}

test("the VAPID private key is stored sealed and never reaches a browser", async ({ baseURL }) => {
  const { publicKey, privateKey, stored } = await vapidKeys();
  expect(privateKey).toMatch(/^[\w-]{40,}$/);
  expect(stored, "the credentials row holds no clear private key").not.toContain(privateKey);
  const asHex = Buffer.from(privateKey, "base64url").toString("hex");
  const asBase64 = Buffer.from(privateKey, "base64url").toString("base64").replace(/=+$/, "");
  const leaks = (text: string) => [privateKey, asHex, asBase64].some((form) => text.includes(form));

  // Every page and GET route of the matrix, as an admin (who sees the most).
  const admin = await requestAs(baseURL!, "admin");
  const urls = new Set<string>(["/sw.js", "/sw-logic.js", "/manifest.webmanifest", "/api/push/public-key"]);
  for (const entry of accessMatrix) {
    if ("page" in entry && !entry.page.includes("[")) urls.add(entry.page);
    if ("route" in entry && entry.route.startsWith("GET ") && !entry.route.includes("[")) {
      urls.add(entry.route.slice(4));
    }
  }
  let publicKeySeen = false;
  for (const url of urls) {
    const body = await (await admin.get(url)).text();
    expect(leaks(body), `${url} must not contain the VAPID private key`).toBe(false);
    publicKeySeen ||= body.includes(publicKey);
  }
  expect(publicKeySeen, "the search would find a key: the public one is served").toBe(true);
  await admin.dispose();

  // Every file the build serves to browsers.
  const staticDir = path.join(import.meta.dirname, "../.next/static");
  const files = readdirSync(staticDir, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
  expect(files.length).toBeGreaterThan(10);
  for (const file of files) {
    const text = readFileSync(path.join(file.parentPath, file.name), "latin1");
    expect(leaks(text), `${file.name} must not contain the VAPID private key`).toBe(false);
  }
});

test("state-changing routes refuse another site's Origin, and JSON routes other content types", async ({
  baseURL,
}) => {
  const bo = await requestAs(baseURL!, "bo");
  const evil = { origin: "https://evil.example" };
  const subscription = JSON.stringify({
    endpoint: `${process.env.PUSH_DOUBLE_ORIGIN ?? "https://localhost:4100"}/push/csrf-check`,
    keys: { p256dh: `B${"A".repeat(86)}`, auth: "A".repeat(22) },
  });
  const crossSite = [
    // A cross-site form can send text/plain and multipart without a preflight: exactly the attack.
    await bo.post("/api/push/subscriptions", {
      headers: { ...evil, "content-type": "text/plain" },
      data: subscription,
    }),
    await bo.delete("/api/push/subscriptions", {
      headers: { ...evil, "content-type": "text/plain" },
      data: JSON.stringify({ endpoint: "https://nowhere.example/x" }),
    }),
    await bo.post("/api/data-load", {
      headers: evil,
      multipart: { file: { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from("a,b\n1,2\n") } },
    }),
    await bo.post("/api/approvals/1/approve", { headers: evil }),
    // No Origin, but the browser's Sec-Fetch-Site says another site sent it.
    await bo.post("/api/data-load", {
      headers: { "sec-fetch-site": "cross-site" },
      multipart: { file: { name: "x.csv", mimeType: "text/csv", buffer: Buffer.from("a,b\n1,2\n") } },
    }),
  ];
  for (const response of crossSite) {
    expect(response.status(), response.url()).toBe(403);
    expect(await response.json()).toMatchObject({ code: "cross_origin" });
  }
  const plainText = await bo.post("/api/push/subscriptions", {
    headers: { origin: baseURL!, "content-type": "text/plain" },
    data: subscription,
  });
  expect(plainText.status()).toBe(415);
  const sql = e2eDatabase();
  try {
    const [row] = await sql<{ n: number }[]>`
      select count(*)::int as n from push_subscriptions where endpoint like '%/push/csrf-check'`;
    expect(row?.n, "nothing stored by the refused requests").toBe(0);
  } finally {
    await sql.end();
  }
  await bo.dispose();
});

test("health shows host names, pids and worker ids to administrators only", async ({ baseURL }) => {
  const anonymous = await request.newContext({ baseURL });
  const bo = await requestAs(baseURL!, "bo");
  const admin = await requestAs(baseURL!, "admin");
  for (const context of [anonymous, bo]) {
    const response = await context.get("/api/health");
    expect(response.status()).toBe(200);
    const text = await response.text();
    const body = JSON.parse(text);
    expect(body).toMatchObject({ ok: true, workers: { inProcess: { kind: "web", running: true } } });
    expect(body.workers.live).toBeGreaterThanOrEqual(1);
    expect(text).not.toMatch(/"(hostname|pid|id|processes|lastError)"/);
  }
  const full = await (await admin.get("/api/health")).json();
  expect(full.workers.processes[0]).toMatchObject({ hostname: expect.any(String), pid: expect.any(Number) });
  expect(full.workers.inProcess.id).toEqual(expect.any(String));
  await Promise.all([anonymous.dispose(), bo.dispose(), admin.dispose()]);
});
