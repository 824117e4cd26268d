import path from "node:path";
import type { Page, TestInfo } from "@playwright/test";
import { expect, expectNoHorizontalScroll, signIn, test } from "./support/fixtures";

/**
 * Desktop and phone run in parallel against one server: each project uses its own users and departments,
 * so neither sees the other's processing.
 */
function cast(testInfo: TestInfo) {
  return testInfo.project.name === "phone"
    ? { processor: "bo", other: "admin", deptno: 30, freeDeptno: 40 }
    : { processor: "steve", other: "pat", deptno: 20, freeDeptno: 10 };
}

async function openDepartment(page: Page, deptno: number) {
  await page.getByRole("button", { name: `Edit department ${deptno}` }).click();
  const dialog = page.getByRole("dialog", { name: `Department ${deptno}` });
  await expect(dialog).toBeVisible();
  return dialog;
}

async function setHideProcessButton(page: Page, on: boolean, testInfo?: TestInfo) {
  await page.getByLabel(/^User menu for/).click();
  const toggle = page.getByRole("menuitemcheckbox", { name: "Hide Process Button" });
  await expect(toggle).toBeEnabled();
  if ((await toggle.getAttribute("aria-checked")) !== String(on)) await toggle.click();
  await expect(toggle).toHaveAttribute("aria-checked", String(on));
  await expect(toggle).toBeEnabled();
  if (testInfo) await page.screenshot({ path: testInfo.outputPath("user-menu.png") });
  await page.keyboard.press("Escape");
}

const shot = (page: Page, testInfo: TestInfo, name: string) =>
  page.screenshot({ path: testInfo.outputPath(`${name}.png`), fullPage: true });

test.describe("departments processing in the background", () => {
  test("process, refusal naming the processor, Hide Process Button, live status, history", async ({
    page,
    person,
  }, testInfo) => {
    test.setTimeout(240_000);
    const { processor, other, deptno, freeDeptno } = cast(testInfo);
    const PROCESSOR = processor.toUpperCase();
    const OTHER = other.toUpperCase();

    await page.goto("/signin?callbackUrl=%2Fdepartments");
    await signIn(page, processor);
    await expect(page.getByRole("heading", { name: "Departments", level: 1 })).toBeVisible();
    await expect(page.getByRole("cell", { name: "ACCOUNTING" })).toBeVisible();
    await expectNoHorizontalScroll(page);
    await shot(page, testInfo, "departments");

    let dialog = await openDepartment(page, deptno);
    await expect(dialog.getByLabel("Dname")).not.toHaveValue("");
    await expect(dialog.getByRole("button", { name: "Cancel" })).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Delete" })).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Apply Changes" })).toBeVisible();
    await shot(page, testInfo, "department-dialog");
    await dialog.getByRole("button", { name: "Process" }).click();
    await expect(page.getByRole("status")).toHaveText(`Department ${deptno} submitted for processing.`);
    await expect(dialog).toBeHidden();

    // Someone else tries the same department: told who has it.
    const { page: second } = await person(other);
    await second.goto("/departments");
    dialog = await openDepartment(second, deptno);
    await dialog.getByRole("button", { name: "Process" }).click();
    await expect(dialog.getByRole("alert")).toHaveText(
      `Department ${deptno} is already being processed by ${PROCESSOR}`,
    );
    await dialog.getByRole("button", { name: "Cancel" }).click();

    // With Hide Process Button on, the button is absent for that department, present for a free one.
    await setHideProcessButton(second, true, testInfo);
    dialog = await openDepartment(second, deptno);
    await expect(dialog.getByRole("button", { name: "Apply Changes" })).toBeVisible();
    await expect(dialog.getByRole("button", { name: "Process" })).toHaveCount(0);
    await dialog.getByRole("button", { name: "Cancel" }).click();
    dialog = await openDepartment(second, freeDeptno);
    await dialog.getByRole("button", { name: "Process" }).click();
    await expect(second.getByRole("status")).toHaveText(`Department ${freeDeptno} submitted for processing.`);
    await setHideProcessButton(second, false);

    // The status page shows both users' rows, progress moving without a reload.
    await page.goto("/processing/status");
    await expect(page.getByRole("heading", { name: "Processing Status", level: 1 })).toBeVisible();
    const bar = page.getByRole("progressbar", { name: `Progress of department ${deptno} by ${PROCESSOR}` });
    const otherBar = page.getByRole("progressbar", {
      name: `Progress of department ${freeDeptno} by ${OTHER}`,
    });
    await expect(bar).toBeVisible();
    await expect(otherBar).toBeVisible();
    const value = async (locator: typeof bar) => Number((await locator.getAttribute("aria-valuenow")) ?? 0);
    const before = await value(bar);
    await expect.poll(() => value(bar), { timeout: 15_000 }).toBeGreaterThan(before);
    const otherBefore = await value(otherBar);
    await expect.poll(() => value(otherBar), { timeout: 15_000 }).toBeGreaterThan(otherBefore);
    await expectNoHorizontalScroll(page);
    await shot(page, testInfo, "processing-status");
    // Sortable by username: the column header on a desktop, one "Sort by" select on a phone.
    if (testInfo.project.name === "phone") {
      await expect(page.getByRole("button", { name: /^Username/ })).toBeHidden();
      await page.getByLabel("Sort by").selectOption({ label: "Username, ascending" });
    } else {
      await expect(page.getByLabel("Sort by")).toBeHidden();
      await page.getByRole("button", { name: /^Username/ }).click();
    }
    await expect(page.getByRole("columnheader", { name: /Username/ })).toHaveAttribute(
      "aria-sort",
      /ascending|descending/,
    );

    // Both finish and leave the status page; the history then has averages.
    await expect(bar).toBeHidden({ timeout: 80_000 });
    await expect(otherBar).toBeHidden({ timeout: 80_000 });
    await page.goto("/processing/history");
    await expect(page.getByRole("heading", { name: "Processing History", level: 1 })).toBeVisible();
    await expect(page.getByTestId("average-running")).toHaveText(/^\d+ (m \d+ )?s$/);
    await expect(page.getByTestId("average-wait")).toHaveText(/^(\d+ h )?(\d+ m )?\d+ s$/);
    await expect(page.getByText(`${deptno} · ${PROCESSOR}`).first()).toBeVisible();
    await expectNoHorizontalScroll(page);
    await shot(page, testInfo, "processing-history");
  });
});

test.describe("background data load", () => {
  const user = (testInfo: TestInfo) => (testInfo.project.name === "phone" ? "bo" : "steve");

  async function upload(page: Page, file: string | { name: string; mimeType: string; buffer: Buffer }) {
    await page.getByLabel("CSV or ZIP file").setInputFiles(file);
    await page.getByRole("button", { name: "Load Data" }).click();
  }

  test("the 10,000-row sample ZIP loads in the background to 10,000 rows processed", async ({
    page,
  }, testInfo) => {
    test.setTimeout(120_000);
    await page.goto("/signin?callbackUrl=%2Fdata-load");
    await signIn(page, user(testInfo));
    await expect(page.getByRole("heading", { name: "Data Load", level: 1 })).toBeVisible();
    await upload(page, path.join(import.meta.dirname, "../public/samples/sales-10000.zip"));
    await expect(page.getByRole("status")).toHaveText('"sales-10000.zip" submitted for loading.');
    const load = page.getByRole("listitem", { name: /sales-10000\.zip/ }).first();
    await expect(load.getByText("10,000 rows processed · 10,000 loaded · 0 rejected")).toBeVisible({
      timeout: 60_000,
    });
    await expect(load.getByText("Succeeded")).toBeVisible();
    // The sales table, paged, shows the rows once the load has finished.
    await expect(page.getByRole("heading", { name: /^Sales \([\d,]+ rows\)$/ })).not.toHaveText(
      "Sales (0 rows)",
    );
    await expect(page.getByRole("navigation", { name: "Sales pages" })).toBeVisible();
    await page.getByRole("navigation", { name: "Sales pages" }).getByRole("link", { name: "Next" }).click();
    await expect(page.getByText(/^Page 2 of \d+$/)).toBeVisible();
    await expectNoHorizontalScroll(page);
    await shot(page, testInfo, "data-load");
  });

  test("a file with bad rows reports each with its reason; wrong files are refused", async ({
    page,
  }, testInfo) => {
    await page.goto("/signin?callbackUrl=%2Fdata-load");
    await signIn(page, user(testInfo));
    const csv = [
      "Region,Country,Item Type,Sales Channel,Order Priority,Units Sold,Unit Price,Unit Cost,Total Profit",
      "Europe,Germany,Cereal,Online,H,100,205.70,117.11,8859.00",
      "Europe,France,Cereal,Somewhere,H,100,205.70,117.11,8859.00",
      "Asia,Japan,Snacks,Offline,M,many,152.58,97.44,5514.00",
      "",
    ].join("\n");
    const name = `bad-rows-${testInfo.project.name}.csv`;
    await upload(page, { name, mimeType: "text/csv", buffer: Buffer.from(csv) });
    await expect(page.getByRole("status")).toHaveText(`"${name}" submitted for loading.`);
    const load = page.getByRole("listitem", { name: new RegExp(name.replace(".", "\\.")) }).first();
    await expect(load.getByText("3 rows processed · 1 loaded · 2 rejected")).toBeVisible({ timeout: 30_000 });
    await load.getByText("Rejected rows (2)").click();
    await expect(
      load.getByRole("cell", { name: 'Sales Channel must be Online or Offline (found "Somewhere")' }),
    ).toBeVisible();
    await expect(
      load.getByRole("cell", { name: 'Units Sold is not a whole number (found "many")' }),
    ).toBeVisible();
    await expectNoHorizontalScroll(page);
    await shot(page, testInfo, "data-load-rejects");

    await upload(page, { name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello") });
    await expect(page.locator("p[role=alert]")).toHaveText(
      '"notes.txt" is not a CSV or ZIP file. Upload a .csv file, or a .zip holding one.',
    );
    await upload(page, { name: "empty.csv", mimeType: "text/csv", buffer: Buffer.alloc(0) });
    await expect(page.locator("p[role=alert]")).toHaveText('"empty.csv" is empty.');
    // Over the size limit: refused in the browser, and by the server for a client that skips that check.
    const big = { name: "big.csv", mimeType: "text/csv", buffer: Buffer.alloc(9 * 1024 * 1024, 0x41) };
    await upload(page, big);
    await expect(page.locator("p[role=alert]")).toHaveText(
      '"big.csv" is 9 MB; files up to 8 MB can be loaded.',
    );
    const response = await page.request.post("/api/data-load", { multipart: { file: big } });
    expect(response.status()).toBe(413);
    expect(await response.json()).toMatchObject({
      ok: false,
      error: "The file is too big; files up to 8 MB can be loaded.",
    });
  });
});
