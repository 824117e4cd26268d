import { expect, type Page, test } from "@playwright/test";
import postgres from "postgres";
import { expectNoHorizontalScroll, signIn } from "./support/fixtures";

/** The e2e server's database (e2e/support/serve.mjs): executions are started the way a worker sees them. */
function database() {
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${process.env.E2E_DATABASE}`;
  return postgres(url.toString(), { max: 1, onnotice: () => {} });
}

/** Queues the demo-free `system.wait` chain for a user, as runInBackground stores it, and wakes the workers. */
async function startWait(username: string, input: { steps: number; stepMs: number }): Promise<number> {
  const sql = database();
  try {
    const [row] = await sql<{ id: number }[]>`
      insert into executions (chain_name, title, user_id, session_id, input)
      select 'system.wait', ${`Wait ${input.steps} × ${input.stepMs} ms`}, id, 'e2e', ${sql.json(input)}
      from users where username = ${username}
      returning id`;
    await sql`select pg_notify('executions', ${String(row!.id)})`;
    return row!.id;
  } finally {
    await sql.end();
  }
}

function rowOf(page: Page, id: number) {
  // The id cell links to the execution; on phones the card also shows the cell's label ("Id 24").
  return page.getByRole("row").filter({ has: page.getByRole("link", { name: String(id), exact: true }) });
}

// The waits run 600 × 250 ms (150 s): long enough to still be running when a test on a busy machine
// reaches its Abort; every test aborts what it started.
test.describe("background executions", () => {
  test("a user watches their execution progress live and aborts it; nobody else sees it", async ({
    page,
    browser,
  }) => {
    const id = await startWait("bo", { steps: 600, stepMs: 250 });
    const other = await startWait("bo", { steps: 600, stepMs: 250 });
    await page.goto("/signin?callbackUrl=%2Fexecutions");
    await signIn(page, "bo");
    await expect(page.getByRole("heading", { name: "My Background Executions", level: 1 })).toBeVisible();

    const row = rowOf(page, id);
    await expect(row.getByText("Running", { exact: true })).toBeVisible();
    // The human title, not the code id.
    await expect(row.getByRole("cell", { name: "Wait 600 × 250 ms" })).toBeVisible();
    const bar = row.getByRole("progressbar", { name: `Progress of execution ${id}` });
    // Progress moves without a reload.
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);
    const before = Number(await bar.getAttribute("aria-valuenow"));
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(before);
    // On phones a card cell carries its label too ("Current step 1. Wait").
    await expect(row.getByRole("cell", { name: /(^|Current step )1\. Wait$/ })).toBeVisible();
    // Its last change came after the page loaded: never "in a moment" (a time in the future). The row
    // changes every 250 ms, so a stale clock would show it here (it did).
    await expect(row).not.toContainText("in a moment");

    // Someone else sees neither the row nor the admin data.
    const steve = await browser.newPage();
    await steve.goto("/signin?callbackUrl=%2Fexecutions");
    await signIn(steve, "steve");
    await expect(steve.getByRole("heading", { name: "My Background Executions", level: 1 })).toBeVisible();
    await expect(rowOf(steve, id)).toHaveCount(0);
    const mine = await steve.request.get("/api/executions");
    expect(mine.status()).toBe(200);
    expect(((await mine.json()).executions as { id: number }[]).map((e) => e.id)).not.toContain(id);
    const all = await steve.request.get("/api/executions?scope=all");
    expect(all.status()).toBe(403);
    const bad = await steve.request.get("/api/executions?status=NOPE");
    expect(bad.status()).toBe(400);
    expect(await steve.goto("/admin/executions").then((r) => r?.status())).toBe(403);

    // Bo aborts his other execution; steve replays that very server action call for this one: refused.
    const [call] = await Promise.all([
      page.waitForRequest(
        (request) => request.method() === "POST" && Boolean(request.headers()["next-action"]),
      ),
      rowOf(page, other)
        .getByRole("button", { name: `Abort execution ${other}` })
        .click(),
    ]);
    await expect(rowOf(page, other).getByText("Aborted", { exact: true })).toBeVisible();
    const replay = await steve.request.post("/executions", {
      headers: {
        "next-action": call.headers()["next-action"] ?? "",
        "content-type": "text/plain;charset=UTF-8",
        accept: "text/x-component",
      },
      data: JSON.stringify([{ id }]),
    });
    expect(await replay.text()).toContain(`Execution ${id} was not found.`);
    await steve.close();
    await expect(row.getByText("Running", { exact: true })).toBeVisible();

    await row.getByRole("button", { name: `Abort execution ${id}` }).click();
    await expect(page.getByRole("status").last()).toHaveText(
      new RegExp(`(Abort requested: execution ${id} stops at its next step|Execution ${id} aborted)\\.`),
    );
    await expect(row.getByText("Aborted", { exact: true })).toBeVisible();
    await expect(row.getByRole("button", { name: /Abort/ })).toHaveCount(0);
    await expectNoHorizontalScroll(page);
  });

  test("an admin sees every user's executions, the limit in use, filters by status and aborts", async ({
    page,
  }) => {
    const running = await startWait("steve", { steps: 600, stepMs: 250 });
    const finished = await startWait("bo", { steps: 1, stepMs: 0 });
    await page.goto("/signin?callbackUrl=%2Fadmin%2Fexecutions");
    await signIn(page, "admin");
    await expect(page.getByRole("heading", { name: "All Background Executions", level: 1 })).toBeVisible();
    await expect(page.getByText(/Application-wide limit: \d+ of 8 running/)).toBeVisible();

    const steveRow = rowOf(page, running);
    await expect(steveRow.getByRole("cell", { name: /^(User )?steve$/ })).toBeVisible();
    await expect(steveRow.getByText("Running", { exact: true })).toBeVisible();
    await expect(rowOf(page, finished).getByText("Succeeded", { exact: true })).toBeVisible();

    await page.getByLabel("Status").selectOption({ label: "Succeeded" });
    await expect(rowOf(page, running)).toHaveCount(0);
    await expect(rowOf(page, finished)).toBeVisible();
    await page.getByLabel("Status").selectOption("");

    await rowOf(page, running)
      .getByRole("button", { name: `Abort execution ${running}` })
      .click();
    await expect(rowOf(page, running).getByText("Aborted", { exact: true })).toBeVisible();
  });

  test("one execution: its status by id (others get 404 like a missing id), live on its own page, with its attempts", async ({
    page,
    browser,
  }) => {
    const id = await startWait("bo", { steps: 600, stepMs: 250 });
    const failed = await failedWithHistory("bo");
    await page.goto(`/signin?callbackUrl=%2Fexecutions%2F${id}`);
    await signIn(page, "bo");

    // The page: the title as its heading, status and progress updating live (server-sent events).
    await expect(page.getByRole("heading", { name: "Wait 600 × 250 ms", level: 1 })).toBeVisible();
    const card = page.getByRole("region", { name: `Execution ${id}` });
    await expect(card.getByText("Running", { exact: true })).toBeVisible();
    const bar = card.getByRole("progressbar", { name: `Progress of execution ${id}` });
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(0);
    const before = Number(await bar.getAttribute("aria-valuenow"));
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(before);

    // The API: the owner gets it; another user gets exactly what a missing id gets.
    const mine = await page.request.get(`/api/executions/${id}`);
    expect(mine.status()).toBe(200);
    expect((await mine.json()).execution).toMatchObject({
      id,
      title: "Wait 600 × 250 ms",
      status: "EXECUTING",
    });
    expect((await page.request.get("/api/executions/abc")).status()).toBe(400);
    const steve = await browser.newPage();
    await steve.goto("/signin?callbackUrl=%2Fexecutions");
    await signIn(steve, "steve");
    const others = await steve.request.get(`/api/executions/${id}`);
    const missing = await steve.request.get("/api/executions/2000000000");
    expect(others.status()).toBe(404);
    expect(missing.status()).toBe(404);
    expect(await others.json()).toEqual(await missing.json());
    expect((await steve.goto(`/executions/${id}`))?.status()).toBe(404);
    await steve.close();

    // Abort from the live component.
    await card.getByRole("button", { name: `Abort execution ${id}` }).click();
    await expect(card.getByText("Aborted", { exact: true })).toBeVisible();

    // Attempts history: on the list and on the execution's page.
    await page.goto("/executions");
    const row = rowOf(page, failed);
    await row.getByText("2 failed attempts").click();
    await expect(row.getByRole("list", { name: `Attempts of execution ${failed}` })).toContainText(
      "Attempt 1 (Fetch): connection reset",
    );
    await expect(row.getByRole("cell", { name: "2 of 2" })).toBeVisible();
    await row.getByRole("link", { name: String(failed) }).click();
    await expect(page.getByRole("heading", { name: "Import the nightly batch", level: 1 })).toBeVisible();
    await expect(page.getByRole("list", { name: "Failed attempts" })).toContainText(
      "Attempt 2 (Store): disk full",
    );
  });
});

/** A FAILED execution with two failed attempts, as a worker leaves it after its last retry. */
async function failedWithHistory(username: string): Promise<number> {
  const sql = database();
  try {
    const log = [
      { attempt: 1, step: "Fetch", error: "connection reset", at: new Date().toISOString() },
      { attempt: 2, step: "Store", error: "disk full", at: new Date().toISOString() },
    ];
    const [row] = await sql<{ id: number }[]>`
      insert into executions (chain_name, title, user_id, session_id, input, status, error, attempt, max_attempts,
        attempt_log, started_at, finished_at)
      select 'system.wait', 'Import the nightly batch', id, 'e2e', '{}'::jsonb, 'FAILED', 'disk full', 2, 2,
        ${sql.json(log)}, now(), now()
      from users where username = ${username}
      returning id`;
    return row!.id;
  } finally {
    await sql.end();
  }
}
