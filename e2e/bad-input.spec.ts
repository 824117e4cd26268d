// Bad input against every server action and route handler (SPEC Q3, issue 8): empty, 1 MB, wrong types,
// negative, NaN, script injection, SQL metacharacters, unicode and NUL. Each must get a clear 4xx or a field
// error, store nothing and show no stack trace. Server actions are POSTed exactly as the router does.
import { type APIRequestContext, expect, request, test } from "@playwright/test";
import { type ActionResponse, callAction, FormArg } from "./support/actions";
import { e2eDatabase } from "./support/db";
import { signIn } from "./support/fixtures";
import { requestAs } from "./support/session";

/** The push service double of this run (its host and port are on the allow-list). */
const DOUBLE = process.env.PUSH_DOUBLE_ORIGIN ?? "https://localhost:4100";

const ONE_MB = "x".repeat(1024 * 1024);
const SCRIPT = "<script>window.__pwned = 1</script>";
const SQL = "1'); drop table users; --";
const UNICODE = "１２.３４ 𝟗 \u202e🙂 ١٢";

/** The values every field gets. */
const badValues: [string, unknown][] = [
  ["empty", ""],
  ["1 MB", ONE_MB],
  ["object", { nested: true }],
  ["array", [1, 2]],
  ["boolean", true],
  ["null", null],
  ["negative", -1],
  ["negative text", "-5"],
  ["NaN text", "NaN"],
  ["NaN number", Number.NaN],
  ["Infinity", "Infinity"],
  ["exponent", "1e309"],
  ["script", SCRIPT],
  ["SQL", SQL],
  ["unicode", UNICODE],
  ["NUL", "a\u0000b"],
];
/** The same as text, for form fields and URLs. */
const badStrings = badValues.map(([label, value]) => [
  label,
  typeof value === "string" ? value : JSON.stringify(value),
]) as [string, string][];

const STACK = /\n\s+at\s.+:\d+:\d+|node_modules\/|webpack-internal|\.tsx?:\d+:\d+/;
let tried = 0;

function expectRefusedAction(response: ActionResponse, what: string) {
  tried += 1;
  expect(response.status, `${what}: status\n${response.body.slice(0, 400)}`).toBeLessThan(500);
  expect(response.body, `${what}: no stack trace`).not.toMatch(STACK);
  // Over the server-action body limit: refused before any action code runs (proxy.ts).
  if (response.status === 413) return;
  expect(response.result, `${what}: an { ok: false } answer\n${response.body.slice(0, 400)}`).not.toBeNull();
  expect(response.result!.ok, `${what}: refused`).toBe(false);
  const fields = Object.values(response.result!.fieldErrors ?? {}).flat();
  expect(`${response.result!.error ?? ""}${fields.join("")}`.length, `${what}: says why`).toBeGreaterThan(0);
}

async function expectRefusedRoute(response: Awaited<ReturnType<APIRequestContext["get"]>>, what: string) {
  tried += 1;
  const body = await response.text();
  expect(response.status(), `${what}: 4xx\n${body.slice(0, 400)}`).toBeGreaterThanOrEqual(400);
  expect(response.status(), `${what}: 4xx\n${body.slice(0, 400)}`).toBeLessThan(500);
  expect(body, `${what}: no stack trace`).not.toMatch(STACK);
}

test.describe("bad input", () => {
  test.describe.configure({ mode: "parallel" });
  const contexts = new Map<string, APIRequestContext>();
  const as = (user: string) => contexts.get(user)!;

  test.beforeAll(async ({ baseURL }, testInfo) => {
    test.skip(testInfo.project.name !== "desktop", "the server's answers do not depend on the viewport");
    for (const user of ["bo", "pat", "admin"]) contexts.set(user, await requestAs(baseURL!, user));
    contexts.set("nobody", await request.newContext({ baseURL }));
  });
  test.afterAll(async () => {
    for (const context of contexts.values()) await context.dispose();
    console.log(`bad inputs tried in this worker: ${tried}`);
  });

  test("New Reimbursement: every field, and arguments of the wrong type; nothing stored", async ({
    baseURL,
  }) => {
    const marker = `bad-input-${crypto.randomUUID()}`;
    const submit = (args: unknown[]) =>
      callAction(as("bo"), "app/(app)/reimbursements/actions.ts#submitReimbursementAction", args, baseURL!);
    const valid = { amount: "12.50", receiptFrom: marker, clientToken: "" };
    for (const [label, value] of badStrings) {
      expectRefusedAction(
        await submit([{}, new FormArg({ ...valid, clientToken: crypto.randomUUID(), amount: value })]),
        `amount ${label}`,
      );
      expectRefusedAction(
        await submit([{}, new FormArg({ ...valid, clientToken: value })]),
        `clientToken ${label}`,
      );
    }
    for (const [label, value] of [
      ["empty", ""],
      ["blank", "   "],
      ["1 MB", ONE_MB],
      ["101 characters", "y".repeat(101)],
      ["NUL", `${marker}\u0000`],
      ["newline", `${marker}\nsecond line`],
    ]) {
      expectRefusedAction(
        await submit([{}, new FormArg({ ...valid, clientToken: crypto.randomUUID(), receiptFrom: value! })]),
        `receiptFrom ${label}`,
      );
    }
    for (const [label, value] of badValues) {
      expectRefusedAction(await submit([{}, value]), `form data replaced by ${label}`);
    }
    expectRefusedAction(await submit([]), "no arguments");
    const sql = e2eDatabase();
    try {
      const [row] = await sql<{ count: number }[]>`
        select count(*)::int as count from reimbursements where receipt_from like ${`${marker}%`}
          or length(receipt_from) > 100`;
      expect(row?.count, "nothing stored").toBe(0);
    } finally {
      await sql.end();
    }
  });

  test("script, SQL and unicode are ordinary text: stored as typed, shown escaped", async ({ page }) => {
    await signIn(page, "steve");
    await page.goto("/reimbursements");
    const receipt = `${SCRIPT} ${SQL} ${UNICODE}`.slice(0, 100);
    await page.getByLabel("Amount").fill("3.21");
    await page.getByLabel("Receipt From").fill(receipt);
    await page.getByRole("button", { name: /submit/i }).click();
    await expect(page.getByText("Reimbursement request submitted.")).toBeVisible();
    await expect(page.getByRole("cell", { name: receipt.trim() }).first()).toBeVisible();
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    tried += 1;
  });

  test("sign in: every field, and arguments of the wrong type", async ({ baseURL }) => {
    const signInAs = (args: unknown[]) =>
      callAction(as("nobody"), "app/signin/actions.ts#signInAction", args, baseURL!);
    for (const [label, value] of badStrings) {
      for (const field of ["username", "password"]) {
        // An account nobody uses: these wrong passwords get it throttled, which must not hold up "bo".
        const form = { username: "bad-input-nobody", password: "wrong", [field]: value };
        const response = await signInAs([{}, new FormArg(form)]);
        tried += 1;
        expect(response.status, `${field} ${label}`).toBeLessThan(500);
        expect(response.body).not.toMatch(STACK);
        if (response.status === 413) continue;
        expect(response.body, `${field} ${label}: refused`).toMatch(
          /Invalid username or password|Too many attempts — try again in \d+ s|fieldErrors|Enter your|at most/,
        );
        expect(response.redirect ?? "", `${field} ${label}: not signed in`).toBe("");
      }
    }
    for (const [label, value] of badValues) {
      const response = await signInAs([{}, value]);
      tried += 1;
      expect(response.status, `form data replaced by ${label}\n${response.body.slice(0, 300)}`).toBeLessThan(
        500,
      );
      expect(response.body).not.toMatch(STACK);
    }
  });

  test("object-argument actions: every field of the approval, execution, device and queue actions", async ({
    baseURL,
  }) => {
    const cases: [user: string, action: string, field: string, base: Record<string, unknown>][] = [
      ["pat", "app/(app)/approvals/actions.ts#decideAction", "taskId", { decision: "approve" }],
      ["pat", "app/(app)/approvals/actions.ts#decideAction", "decision", { taskId: 1 }],
      ["bo", "app/(app)/executions/actions.ts#abortExecutionAction", "id", {}],
      ["bo", "app/(app)/settings/push/actions.ts#removeDeviceAction", "id", {}],
      ["admin", "app/(app)/admin/push-queue/actions.ts#removePushMessageAction", "id", {}],
      ["admin", "app/(app)/admin/push-queue/actions.ts#pushQueueAction", "force", {}],
      ["admin", "app/(app)/admin/push-queue/actions.ts#regenerateCredentialsAction", "confirm", {}],
    ];
    for (const [user, action, field, base] of cases) {
      for (const [label, value] of badValues) {
        // Big bodies once per action are enough: the parser refuses them before any action code runs.
        if (label === "1 MB" && field === "decision") continue;
        if (label === "boolean" && field === "force") continue; // the one field where true is right
        expectRefusedAction(
          await callAction(as(user), action, [{ ...base, [field]: value }], baseURL!),
          `${action.split("#")[1]} ${field} ${label}`,
        );
        expectRefusedAction(
          await callAction(as(user), action, [value], baseURL!),
          `${action} argument ${label}`,
        );
      }
    }
    for (const [label, value] of badValues.filter(([, v]) => typeof v !== "object" || v === null)) {
      expectRefusedAction(
        await callAction(
          as("bo"),
          "app/(app)/settings/push/actions.ts#sendTestNotificationAction",
          [value],
          baseURL!,
        ),
        `sendTestNotificationAction argument ${label}`,
      );
    }
  });

  test("push subscriptions API: bad bodies and endpoints are refused, nothing stored", async () => {
    const keys = {
      p256dh: `BA${"A".repeat(85)}`,
      auth: "AAAAAAAAAAAAAAAAAAAAAA",
    };
    const endpoints = [
      "https://evil.example.com/push/1",
      `${DOUBLE.replace("https:", "http:")}/push/1`,
      "https://10.0.0.5/push",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/push",
      `${DOUBLE}@evil.example.com/push`,
      "not a url",
      "javascript:alert(1)",
      `${DOUBLE}/push/${"a".repeat(3000)}`,
      ...badStrings.map(([, value]) => value),
    ];
    const bodies: unknown[] = [
      ...endpoints.map((endpoint) => ({ endpoint, keys })),
      ...badValues.map(([, value]) => ({ endpoint: "https://fcm.googleapis.com/fcm/send/x", keys: value })),
      ...badValues.map(([, value]) => value),
      ...badValues.map(([, value]) => ({
        endpoint: "https://fcm.googleapis.com/fcm/send/x",
        keys,
        oldEndpoint: value,
      })),
    ];
    for (const body of bodies) {
      const what = JSON.stringify(body)?.slice(0, 80) ?? String(body);
      await expectRefusedRoute(
        await as("bo").post("/api/push/subscriptions", {
          data: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
        `POST ${what}`,
      );
    }
    for (const raw of ["", "{", "not json", ONE_MB]) {
      await expectRefusedRoute(
        await as("bo").post("/api/push/subscriptions", {
          data: raw,
          headers: { "content-type": "application/json" },
        }),
        `POST raw ${raw.slice(0, 20)}`,
      );
      await expectRefusedRoute(
        await as("bo").delete("/api/push/subscriptions", {
          data: raw,
          headers: { "content-type": "application/json" },
        }),
        `DELETE raw ${raw.slice(0, 20)}`,
      );
    }
    for (const [label, value] of badValues) {
      const response = await as("bo").delete("/api/push/subscriptions", {
        data: JSON.stringify({ endpoint: value }),
        headers: { "content-type": "application/json" },
      });
      tried += 1;
      const body = await response.text();
      // A string endpoint that matches nothing removes nothing (200); anything else is a 4xx.
      expect(response.status(), `DELETE endpoint ${label}\n${body.slice(0, 300)}`).toBeLessThan(500);
      expect(body).not.toMatch(STACK);
      if (response.ok()) expect(JSON.parse(body)).toMatchObject({ ok: true, removed: false });
    }
    const sql = e2eDatabase();
    try {
      const [row] = await sql<{ count: number }[]>`
        select count(*)::int as count from push_subscriptions
        where endpoint not like ${`${DOUBLE}/push/%`} or length(endpoint) > 2048`;
      expect(row?.count, "no refused endpoint stored").toBe(0);
    } finally {
      await sql.end();
    }
  });

  test("approval decisions, executions API and detail pages: bad path and query values", async () => {
    for (const [label, value] of badStrings) {
      // A 1 MB URL is refused by the HTTP server itself (431/414); an empty id is the list page.
      if (label === "1 MB" || label === "empty") continue;
      const segment = encodeURIComponent(value);
      await expectRefusedRoute(await as("pat").post(`/api/approvals/${segment}/approve`), `taskId ${label}`);
      await expectRefusedRoute(await as("pat").post(`/api/approvals/1/${segment}`), `decision ${label}`);
      await expectRefusedRoute(await as("bo").get(`/api/executions?scope=${segment}`), `scope ${label}`);
      await expectRefusedRoute(await as("bo").get(`/api/executions?status=${segment}`), `status ${label}`);
      const detail = await as("bo").get(`/reimbursements/${segment}`);
      tried += 1;
      expect([400, 404], `/reimbursements/${label}`).toContain(detail.status());
      const queue = await as("pat").get(`/approvals?q=${segment}&sort=${segment}&expired=${segment}`);
      tried += 1;
      expect(queue.status(), `/approvals?q=${label}`).toBe(200);
      expect(await queue.text()).not.toContain(SCRIPT);
    }
    const long = await as("pat").post(`/api/approvals/${"9".repeat(20_000)}/approve`);
    tried += 1;
    expect(long.status()).toBeGreaterThanOrEqual(400);
    expect(long.status()).toBeLessThan(500);
  });
});
