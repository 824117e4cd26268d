// `npm run screenshots`: a gallery of every page, phone and desktop, light and dark, in docs/screenshots/.
// Starts the app as the Quick start does (embedded database in a temporary folder, so nothing of yours is
// touched), fills it with a little demo data, photographs each page, writes docs/screenshots/README.md and
// stops the server. SCREENSHOTS_PORT (default 3400) and PLAYWRIGHT_CHROMIUM_PATH as for the e2e tests.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type Browser, type BrowserContextOptions, chromium, devices, type Page } from "@playwright/test";

const root = path.resolve(import.meta.dirname, "..");
const out = path.join(root, "docs", "screenshots");
const port = Number(process.env.SCREENSHOTS_PORT ?? 3400);
const baseURL = `http://localhost:${port}`;

const PAGES: { name: string; path: string; user: string; title: string }[] = [
  { name: "signin", path: "/signin", user: "", title: "Sign in" },
  { name: "home", path: "/", user: "admin", title: "Home" },
  { name: "reimbursements", path: "/reimbursements", user: "bo", title: "Manage Reimbursements" },
  { name: "reimbursement-detail", path: "/reimbursements/1", user: "bo", title: "Claim detail" },
  { name: "approvals", path: "/approvals", user: "pat", title: "Approval Queue" },
  { name: "departments", path: "/departments", user: "steve", title: "Departments" },
  { name: "processing-status", path: "/processing/status", user: "steve", title: "Processing Status" },
  { name: "processing-history", path: "/processing/history", user: "steve", title: "Processing History" },
  { name: "data-load", path: "/data-load", user: "bo", title: "Data Load" },
  { name: "executions", path: "/executions", user: "steve", title: "My executions" },
  { name: "admin-push-queue", path: "/admin/push-queue", user: "admin", title: "Push Queue" },
  { name: "admin-subscriptions", path: "/admin/subscriptions", user: "admin", title: "Subscriptions" },
  { name: "admin-executions", path: "/admin/executions", user: "admin", title: "All executions" },
  { name: "settings", path: "/settings", user: "bo", title: "Settings" },
  { name: "settings-push", path: "/settings/push", user: "bo", title: "Push Notifications" },
  { name: "forbidden", path: "/admin/push-queue", user: "bo", title: "Not allowed (403)" },
  { name: "offline", path: "/offline.html", user: "", title: "Offline page" },
];

const VIEWPORTS: { name: "phone" | "desktop"; options: BrowserContextOptions }[] = [
  { name: "phone", options: { ...devices["iPhone 13"] } },
  { name: "desktop", options: { ...devices["Desktop Chrome"], viewport: { width: 1366, height: 900 } } },
];
const SCHEMES = ["light", "dark"] as const;
/** Phones: the fixed tab bar anchored to the page's bottom instead of the viewport's (see below). */
const FULL_PAGE_CSS =
  "@media (max-width: 640px) { .shell { position: relative; } .nav { position: absolute !important; } }";

async function waitForHealth(server: ChildProcess): Promise<void> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`the server stopped (exit ${server.exitCode})`);
    try {
      if ((await fetch(`${baseURL}/api/health`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error("the server did not start within 5 minutes");
}

async function signIn(page: Page, username: string) {
  await page.goto("/signin");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill("demo");
  await page.getByRole("button", { name: "Sign In" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

/** A claim for bo (approved later by pat), one waiting, a data load, a department being processed. */
async function seed(browser: Browser) {
  const context = await browser.newContext({ baseURL });
  const page = await context.newPage();
  await signIn(page, "bo");
  for (const [amount, receipt] of [
    ["59.95", "Joe's Pharmacy"],
    ["120.00", "Rail tickets"],
  ]) {
    await page.goto("/reimbursements");
    await page.getByLabel("Amount").fill(amount as string);
    await page.getByLabel("Receipt From").fill(receipt as string);
    await page.getByRole("button", { name: "Submit" }).click();
    await page.getByRole("status").waitFor({ timeout: 90_000 });
  }
  await page.goto("/data-load");
  await page.getByLabel("CSV or ZIP file").setInputFiles(path.join(root, "public/samples/sales-10000.zip"));
  await page.getByRole("button", { name: "Load Data" }).click();
  await page.getByText(/10,000 rows processed/).waitFor({ timeout: 120_000 });
  await context.close();

  const approver = await browser.newContext({ baseURL });
  const pat = await approver.newPage();
  await signIn(pat, "pat");
  await pat.goto("/approvals?q=Pharmacy");
  await pat
    .getByRole("button", { name: /^Approve/ })
    .first()
    .click();
  await pat.getByRole("status").waitFor({ timeout: 90_000 });
  await approver.close();

  const processor = await browser.newContext({ baseURL });
  const steve = await processor.newPage();
  await signIn(steve, "steve");
  for (const deptno of [20, 30]) {
    await steve.goto("/departments");
    await steve.getByRole("button", { name: `Edit department ${deptno}` }).click();
    await steve.getByRole("dialog").getByRole("button", { name: "Process" }).click();
    await steve.getByRole("status").waitFor({ timeout: 90_000 });
  }
  await processor.close();
}

async function main() {
  const dataDir = mkdtempSync(path.join(tmpdir(), "an-screenshots-"));
  const server = spawn(process.execPath, [path.join(root, "scripts/start.mjs")], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PORT: String(port),
      DATABASE_URL: "",
      PGLITE_DATA_DIR: path.join(dataDir, "pglite"),
      // Long enough that the two departments are still being processed when their pages are shot.
      DEPARTMENT_PROCESSING_SECONDS: "1800",
    },
  });
  const browser = await chromium.launch({
    executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu"],
  });
  try {
    await waitForHealth(server);
    await seed(browser);
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const shots: string[] = [];
    for (const viewport of VIEWPORTS) {
      for (const colorScheme of SCHEMES) {
        const sessions = new Map<string, Page>();
        for (const entry of PAGES) {
          let page = sessions.get(entry.user);
          if (!page) {
            const context = await browser.newContext({ ...viewport.options, colorScheme, baseURL });
            page = await context.newPage();
            if (entry.user) await signIn(page, entry.user);
            sessions.set(entry.user, page);
          }
          await page.goto(entry.path);
          // Live pages never go network-idle: wait for the heading, then let the layout settle.
          await page.getByRole("heading", { level: 1 }).first().waitFor({ timeout: 30_000 });
          await page.waitForTimeout(300);
          // A full-page shot keeps fixed elements where the viewport had them: the phone tab bar would
          // sit in the middle of a long page. Anchor it to the page's bottom for the shot.
          await page.addStyleTag({ content: FULL_PAGE_CSS });
          const file = `${viewport.name}-${colorScheme}-${entry.name}.png`;
          await page.screenshot({ path: path.join(out, file), fullPage: true });
          shots.push(file);
          console.log(`[screenshots] ${file}`);
        }
        for (const page of sessions.values()) await page.context().close();
      }
    }
    const rows = PAGES.map(
      (entry) =>
        `| ${entry.title} | ${VIEWPORTS.flatMap((v) => SCHEMES.map((s) => `[${v.name} ${s}](${v.name}-${s}-${entry.name}.png)`)).join(" · ")} |`,
    );
    writeFileSync(
      path.join(out, "README.md"),
      [
        "# Screenshots",
        "",
        "Written by `npm run screenshots` (iPhone 13 at 390 px and a 1366 px desktop, light and dark).",
        "",
        "| page | shots |",
        "| ---- | ----- |",
        ...rows,
        "",
      ].join("\n"),
    );
    // The index is committed: written in the form `npm run lint` (Biome) expects.
    spawnSync(
      path.join(root, "node_modules/.bin/biome"),
      ["format", "--write", "docs/screenshots/README.md"],
      {
        cwd: root,
        stdio: "inherit",
      },
    );
    console.log(`[screenshots] ${shots.length} screenshots in ${path.relative(root, out)}/`);
  } finally {
    await browser.close();
    server.kill("SIGTERM");
    await new Promise((resolve) => server.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
