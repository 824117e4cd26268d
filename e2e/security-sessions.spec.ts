// Revocable sessions, "Remember me" and sign-in throttling (SPEC H3, H4), against the production build.
// Each test signs in users of its own, so ending their sessions cannot disturb tests running beside it.
import { type APIRequestContext, type BrowserContext, expect, request, test } from "@playwright/test";
import { callAction } from "./support/actions";
import { e2eDatabase } from "./support/db";
import { DEMO_PASSWORD, signIn } from "./support/fixtures";
import { signInRequest } from "./support/session";

test.describe.configure({ mode: "parallel" });
test.skip(({ isMobile }) => isMobile, "server-side session rules do not depend on the viewport");

/** A new user with the demo password, for this test alone. */
async function freshUser(role: "employee" | "admin" = "employee"): Promise<string> {
  const username = `sec${Date.now().toString(36)}${Math.random().toString(36).slice(2, 7)}`;
  const sql = e2eDatabase();
  try {
    await sql`insert into users (username, display_name, role, password_hash)
      select ${username}, ${`Sec ${username}`}, ${role}, password_hash from users where username = 'bo'`;
  } finally {
    await sql.end();
  }
  return username;
}

/** Whether a context's cookies still open a protected page, an API and a server action. */
async function access(context: APIRequestContext, baseURL: string) {
  const page = await context.get("/settings", { maxRedirects: 0 });
  const api = await context.get("/api/data-load");
  const action = await callAction(
    context,
    "app/(app)/preferences-actions.ts#setHideProcessButtonAction",
    [{ hideProcessButton: false }],
    baseURL,
  );
  return { page: page.status(), api: api.status(), action: action.result?.ok ?? action.status };
}

const SIGNED_IN = { page: 200, api: 200, action: true };

async function replayOf(baseURL: string, cookies: Awaited<ReturnType<BrowserContext["cookies"]>>) {
  return request.newContext({ baseURL, storageState: { cookies, origins: [] } });
}

test("after sign-out the old cookie opens nothing and is not re-issued", async ({
  page,
  context,
  baseURL,
}) => {
  const username = await freshUser();
  await signIn(page, username);
  const cookies = await context.cookies();
  const before = await replayOf(baseURL!, cookies);
  expect(await access(before, baseURL!)).toEqual(SIGNED_IN);
  await before.dispose();

  await page.getByLabel(/User menu for/).click();
  await page.getByRole("menuitem", { name: "Sign Out" }).click();
  await expect(page).toHaveURL(/\/signin/);

  // The cookie as it was before signing out, replayed by an attacker who copied it.
  const replay = await replayOf(baseURL!, cookies);
  const after = await access(replay, baseURL!);
  expect(after.page).toBe(307);
  expect(after.api).toBe(401);
  expect(after.action).toBe(false);
  const session = await replay.get("/api/auth/session");
  expect(await session.json()).toBeNull();
  const reissued = session
    .headersArray()
    .filter((h) => /^set-cookie$/i.test(h.name) && /session-token=[^;]+/.test(h.value));
  expect(reissued, "no fresh session cookie for a revoked session").toEqual([]);
  await replay.dispose();
});

test("without Remember me the cookie ends with the browser; with it, it lasts 30 days", async ({
  browser,
  baseURL,
}) => {
  const username = await freshUser();
  const plain = await browser.newContext({ baseURL });
  const plainPage = await plain.newPage();
  await signIn(plainPage, username);
  const browserSession = (await plain.cookies()).find((c) => c.name.includes("session-token"));
  expect(browserSession?.expires, "a browser-session cookie").toBe(-1);
  // Reading the session (what a client refresh does) must not turn it into a persistent one.
  await plainPage.request.get("/api/auth/session");
  expect((await plain.cookies()).find((c) => c.name.includes("session-token"))?.expires).toBe(-1);
  await plain.close();

  const remembered = await browser.newContext({ baseURL });
  const page = await remembered.newPage();
  await page.goto("/signin");
  await page.getByLabel("Remember me").check();
  await signIn(page, username);
  const cookie = (await remembered.cookies()).find((c) => c.name.includes("session-token"));
  const days = ((cookie?.expires ?? 0) * 1000 - Date.now()) / 86_400_000;
  expect(days).toBeGreaterThan(29.9);
  expect(days).toBeLessThanOrEqual(30.01);
  await remembered.close();
});

test("Sign out of all devices ends the other devices' sessions too", async ({ browser, baseURL }) => {
  const username = await freshUser();
  const phone = await request.newContext({ baseURL });
  await signInRequest(phone, username);
  expect(await access(phone, baseURL!)).toEqual(SIGNED_IN);

  const laptop = await browser.newContext({ baseURL });
  const page = await laptop.newPage();
  await signIn(page, username);
  await page.goto("/settings");
  await page.getByRole("button", { name: "Sign out of all devices" }).click();
  await expect(page).toHaveURL(/\/signin/);

  const after = await access(phone, baseURL!);
  expect(after).toEqual({ page: 307, api: 401, action: false });
  await phone.dispose();
  await laptop.close();
});

test("an administrator ends a user's sessions from /admin/users", async ({ browser, baseURL }) => {
  const username = await freshUser();
  const admin = await freshUser("admin");
  const victim = await request.newContext({ baseURL });
  await signInRequest(victim, username);
  expect(await access(victim, baseURL!)).toEqual(SIGNED_IN);

  const adminContext = await browser.newContext({ baseURL });
  const page = await adminContext.newPage();
  await signIn(page, admin);
  await page.goto("/admin/users");
  await page.getByRole("button", { name: `End all sessions of ${username}` }).click();
  await expect(page.getByRole("status").filter({ hasText: "1 session ended." })).toBeVisible();

  expect(await access(victim, baseURL!)).toEqual({ page: 307, api: 401, action: false });
  // The administrator's own session is untouched.
  await page.goto("/admin/users");
  await expect(page.getByRole("heading", { name: "Users", level: 1 })).toBeVisible();
  await victim.dispose();
  await adminContext.close();
});

test("changing the password keeps this session, ends the others, and the new one signs in", async ({
  browser,
  baseURL,
}) => {
  const username = await freshUser();
  const other = await request.newContext({ baseURL });
  await signInRequest(other, username);

  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, username);
  await page.goto("/settings");
  await page.getByLabel("Current password").fill("not-it");
  await page.getByLabel("New password", { exact: true }).fill("brand-new-pass");
  await page.getByLabel("Repeat new password").fill("brand-new-pass");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("The current password is not right.")).toBeVisible();
  expect(await access(other, baseURL!)).toEqual(SIGNED_IN);

  await page.getByLabel("Current password").fill(DEMO_PASSWORD);
  await page.getByLabel("New password", { exact: true }).fill("brand-new-pass");
  await page.getByLabel("Repeat new password").fill("brand-new-pass");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. 1 other session signed out.")).toBeVisible();

  expect(await access(other, baseURL!)).toEqual({ page: 307, api: 401, action: false });
  await page.goto("/settings");
  await expect(page.getByRole("heading", { name: "Settings", level: 1 })).toBeVisible();

  const fresh = await browser.newContext({ baseURL });
  const freshPage = await fresh.newPage();
  await signIn(freshPage, username, "brand-new-pass");
  await other.dispose();
  await context.close();
  await fresh.close();
});

test("repeated wrong passwords: the form says how long to wait", async ({ page }) => {
  const username = await freshUser();
  await page.goto("/signin");
  for (let attempt = 1; attempt <= 5; attempt++) {
    await page.getByLabel("Username").fill(username);
    await page.getByLabel("Password").fill(`wrong-${attempt}`);
    await page.getByRole("button", { name: "Sign In" }).click();
    // The form resets its password field once the answer is in.
    await expect(page.getByLabel("Password")).toHaveValue("");
    await expect(page.locator("form").getByRole("alert")).toHaveText(
      attempt < 5 ? "Invalid username or password." : /./,
    );
  }
  // Now even the right password waits: that is what stops guessing.
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(DEMO_PASSWORD);
  await page.getByRole("button", { name: "Sign In" }).click();
  await expect(page.locator("form").getByRole("alert")).toHaveText(
    /^Too many attempts — try again in \d+ s\.$/,
  );
  await expect(page).toHaveURL(/\/signin/);
});

test("an unknown user is throttled like a known one", async ({ baseURL }) => {
  const api = await request.newContext({ baseURL });
  const ghost = `ghost${Math.random().toString(36).slice(2, 8)}`;
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    const { csrfToken } = (await (await api.get("/api/auth/csrf")).json()) as { csrfToken: string };
    const response = await api.post("/api/auth/callback/credentials", {
      form: { csrfToken, username: ghost, password: "x", callbackUrl: "/" },
      maxRedirects: 0,
    });
    statuses.push(response.status());
  }
  // Five failures answered as wrong passwords, then the wait: the same as for a real account.
  expect(statuses).toEqual([302, 302, 302, 302, 302, 429, 429]);
  const { csrfToken } = (await (await api.get("/api/auth/csrf")).json()) as { csrfToken: string };
  const throttled = await api.post("/api/auth/callback/credentials", {
    form: { csrfToken, username: ghost, password: "x", callbackUrl: "/" },
    maxRedirects: 0,
  });
  expect(throttled.status()).toBe(429);
  expect(Number(throttled.headers()["retry-after"])).toBeGreaterThan(0);
  expect(await throttled.json()).toMatchObject({
    code: "too_many_attempts",
    error: expect.stringMatching(/^Too many attempts — try again in \d+ s\.$/),
  });
  await api.dispose();
});
