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
      insert into executions (chain_name, user_id, session_id, input)
      select 'system.wait', id, 'e2e', ${sql.json(input)} from users where username = ${username}
      returning id`;
    await sql`select pg_notify('executions', ${String(row!.id)})`;
    return row!.id;
  } finally {
    await sql.end();
  }
}

function rowOf(page: Page, id: number) {
  return page.getByRole("row").filter({ has: page.getByRole("cell", { name: String(id), exact: true }) });
}

test.describe("background executions", () => {
  test("a user watches their execution progress live and aborts it; nobody else sees it", async ({
    page,
    browser,
  }) => {
    const id = await startWait("bo", { steps: 120, stepMs: 250 });
    const other = await startWait("bo", { steps: 120, stepMs: 250 });
    await page.goto("/signin?callbackUrl=%2Fexecutions");
    await signIn(page, "bo");
    await expect(page.getByRole("heading", { name: "My Background Executions", level: 1 })).toBeVisible();

    const row = rowOf(page, id);
    await expect(row.getByText("EXECUTING")).toBeVisible();
    await expect(row.getByRole("cell", { name: "system.wait" })).toBeVisible();
    const bar = row.getByRole("progressbar", { name: `Progress of execution ${id}` });
    // Progress moves without a reload.
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThanOrEqual(3);
    const before = Number(await bar.getAttribute("aria-valuenow"));
    await expect
      .poll(async () => Number(await bar.getAttribute("aria-valuenow")), { timeout: 15_000 })
      .toBeGreaterThan(before);
    await expect(row.getByRole("cell", { name: /^1\. Wait$/ })).toBeVisible();

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
    await expect(rowOf(page, other).getByText("ABORTED")).toBeVisible();
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
    await expect(row.getByText("EXECUTING")).toBeVisible();

    await row.getByRole("button", { name: `Abort execution ${id}` }).click();
    await expect(page.getByRole("status").last()).toHaveText(
      new RegExp(`(Abort requested: execution ${id} stops at its next step|Execution ${id} aborted)\\.`),
    );
    await expect(row.getByText("ABORTED")).toBeVisible();
    await expect(row.getByRole("button", { name: /Abort/ })).toHaveCount(0);
    await expectNoHorizontalScroll(page);
  });

  test("an admin sees every user's executions, the limit in use, filters by status and aborts", async ({
    page,
  }) => {
    const running = await startWait("steve", { steps: 120, stepMs: 250 });
    const finished = await startWait("bo", { steps: 1, stepMs: 0 });
    await page.goto("/signin?callbackUrl=%2Fadmin%2Fexecutions");
    await signIn(page, "admin");
    await expect(page.getByRole("heading", { name: "All Background Executions", level: 1 })).toBeVisible();
    await expect(page.getByText(/Application-wide limit: \d+ of 4 running/)).toBeVisible();

    const steveRow = rowOf(page, running);
    await expect(steveRow.getByRole("cell", { name: "steve", exact: true })).toBeVisible();
    await expect(steveRow.getByText("EXECUTING")).toBeVisible();
    await expect(rowOf(page, finished).getByText("SUCCESS")).toBeVisible();

    await page.getByLabel("Status").selectOption("SUCCESS");
    await expect(rowOf(page, running)).toHaveCount(0);
    await expect(rowOf(page, finished)).toBeVisible();
    await page.getByLabel("Status").selectOption("");

    await rowOf(page, running)
      .getByRole("button", { name: `Abort execution ${running}` })
      .click();
    await expect(rowOf(page, running).getByText("ABORTED")).toBeVisible();
  });
});
