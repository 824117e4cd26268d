import { expect, test } from "@playwright/test";
import postgres from "postgres";
import { expectNoHorizontalScroll, signIn } from "./support/fixtures";

/** The e2e server's database (e2e/support/serve.mjs). */
function database() {
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${process.env.E2E_DATABASE}`;
  return postgres(url.toString(), { max: 1, onnotice: () => {} });
}

async function withDatabase<T>(work: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = database();
  try {
    return await work(sql);
  } finally {
    await sql.end();
  }
}

/** An execution of the operator's `system.wait-retryable` chain waiting for a run time far away. */
const scheduledFarAway = () =>
  withDatabase(async (sql) => {
    const [row] = await sql<{ id: number }[]>`
      insert into executions (chain_name, title, user_id, session_id, input, status, run_at)
      select 'system.wait-retryable', 'Wait far away', id, 'e2e', ${sql.json({ steps: 1, stepMs: 0 })},
        'SCHEDULED', now() + interval '1 day'
      from users where username = 'steve'
      returning id`;
    return row!.id;
  });

/** A FAILED execution of `system.wait` (it succeeds when run again), as a worker leaves it. */
const failedExecution = () =>
  withDatabase(async (sql) => {
    const log = [{ attempt: 1, step: "Finish", error: "ledger locked", at: new Date().toISOString() }];
    const [row] = await sql<{ id: number }[]>`
      insert into executions (chain_name, title, user_id, session_id, input, status, error, attempt, max_attempts,
        attempt_log, started_at, finished_at)
      select 'system.wait', 'Close the ledger', id, 'e2e', ${sql.json({ steps: 1, stepMs: 0 })}, 'FAILED',
        'ledger locked', 1, 1, ${sql.json(log)}, now(), now()
      from users where username = 'bo'
      returning id`;
    return row!.id;
  });

const statusOf = (id: number) =>
  withDatabase(
    async (sql) =>
      (await sql<{ status: string }[]>`select status from executions where id = ${id}`)[0]?.status,
  );

test.describe("operations on /admin/executions", () => {
  // Several page loads and server actions per test on a shared, busy machine.
  test.describe.configure({ timeout: 180_000 });
  test.beforeEach(async ({ page }) => {
    await page.goto("/signin?callbackUrl=%2Fadmin%2Fexecutions");
    await signIn(page, "admin");
    await expect(page.getByRole("heading", { name: "All Background Executions", level: 1 })).toBeVisible();
  });

  test("an administrator changes a limit and sees it saved; a bad value is a form error", async ({
    page,
  }) => {
    const limits = page.getByRole("form", { name: "Limits" });
    const chainLimit = limits.getByLabel(
      /^Limit of Wait and report progress, re-run after a crash \(system\.wait-retryable\)/,
    );
    await chainLimit.fill("3");
    await limits.getByRole("button", { name: "Save limits" }).click();
    await expect(limits.getByRole("status")).toHaveText(/Limits saved/);
    await page.reload();
    await expect(
      page
        .getByRole("form", { name: "Limits" })
        .getByLabel(/^Limit of Wait and report progress, re-run after a crash \(system\.wait-retryable\)/),
    ).toHaveValue("3");

    const perUser = page.getByLabel("Per-user limit");
    await perUser.fill("lots");
    await page.getByRole("button", { name: "Save limits" }).click();
    await expect(page.getByRole("form", { name: "Limits" }).getByRole("alert").first()).toBeVisible();
    await expect(perUser).toHaveAttribute("aria-invalid", "true");
    // What was typed stays beside its error (not the saved value).
    await expect(perUser).toHaveValue("lots");
    await expect(
      page.getByText("Enter a whole number from 0 to 10000, or leave it empty for the default."),
    ).toBeVisible();

    // Back to the defaults.
    await perUser.fill("");
    await page
      .getByLabel(/^Limit of Wait and report progress, re-run after a crash \(system\.wait-retryable\)/)
      .fill("");
    await page.getByRole("button", { name: "Save limits" }).click();
    await expect(page.getByRole("form", { name: "Limits" }).getByRole("status")).toHaveText(/Limits saved/);
    await expectNoHorizontalScroll(page);
  });

  test("aborts all executions of a chain after a confirmation", async ({ page }) => {
    const id = await scheduledFarAway();
    await page.reload();
    const open = page.getByRole("button", {
      name: "Abort all executions of Wait and report progress, re-run after a crash",
    });
    // Cancel first: nothing happens.
    await open.click();
    const dialog = page.getByRole("dialog", {
      name: "Abort all executions of Wait and report progress, re-run after a crash?",
    });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await expect(dialog).toBeHidden();
    expect(await statusOf(id)).toBe("SCHEDULED");

    await open.click();
    await dialog.getByRole("button", { name: "Abort all" }).click();
    await expect(page.getByRole("region", { name: "Abort executions" }).getByRole("status")).toHaveText(
      /waiting executions? aborted/,
    );
    await expect.poll(() => statusOf(id)).toBe("ABORTED");
    // The whole application's Abort all asks as well (not confirmed here: other tests' work runs alongside).
    await page.getByRole("button", { name: "Abort all executions", exact: true }).click();
    const everything = page.getByRole("dialog", { name: "Abort every execution of the application?" });
    await expect(everything).toBeVisible();
    await everything.getByRole("button", { name: "Cancel" }).click();
  });

  test("retries a failed execution from the dead-letter list", async ({ page }) => {
    const id = await failedExecution();
    await page.reload();
    const failed = page.getByRole("list", { name: "Failed executions" });
    const item = failed.getByRole("listitem", { name: `Failed execution ${id}` });
    await expect(item.getByRole("list", { name: `Attempts of execution ${id}` })).toContainText(
      "Attempt 1 (Finish): ledger locked",
    );
    await expect(item.getByText("bo", { exact: true })).toBeVisible();
    await item.getByRole("button", { name: `Retry execution ${id}` }).click();
    await expect(page.getByRole("status").filter({ hasText: `Execution ${id} queued again` })).toBeVisible();
    await expect.poll(() => statusOf(id), { timeout: 20_000 }).toBe("SUCCESS");
    await page.reload();
    await expect(page.getByRole("listitem", { name: `Failed execution ${id}` })).toHaveCount(0);
  });
});
