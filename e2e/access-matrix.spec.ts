// Table-driven authorisation check (SPEC A3): every line of e2e/support/access-matrix.ts × every persona,
// against the production build. Pages are opened, route handlers requested, server actions POSTed the way
// the router does — so a check that lives only in the UI fails here.
import { type APIRequestContext, expect, request, test } from "@playwright/test";
import {
  accessMatrix,
  entryKey,
  type MatrixData,
  type MatrixEntry,
  type Persona,
  personas,
  personaUsers,
  rules,
} from "./support/access-matrix";
import { callAction, FormArg } from "./support/actions";
import { e2eDatabase } from "./support/db";
import { PUSH_CONTROL } from "./support/push";
import { requestAs } from "./support/session";

test.describe.configure({ mode: "parallel" });

const REFUSED_ACTION = /Your session has ended|not allowed to do this/;

let data: MatrixData;
/** Signed-in cookies per persona; every check gets a fresh context, so a sign-out cannot leak. */
const states = new Map<Persona, Awaited<ReturnType<APIRequestContext["storageState"]>>>();

test.beforeAll(async ({ baseURL }, testInfo) => {
  test.skip(testInfo.project.name !== "desktop", "authorisation does not depend on the viewport");
  for (const persona of personas) {
    const context = await requestAs(baseURL!, personaUsers[persona]);
    states.set(persona, await context.storageState());
    await context.dispose();
  }
  const bo = await request.newContext({ baseURL, storageState: states.get("employee") });
  const sql = e2eDatabase();
  try {
    // A claim of the employee, with its approval task.
    const receiptFrom = `Matrix ${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    const submitted = await callAction(
      bo,
      "app/(app)/reimbursements/actions.ts#submitReimbursementAction",
      [{}, new FormArg({ amount: "12.34", receiptFrom, clientToken: crypto.randomUUID() })],
      baseURL!,
    );
    expect(submitted.result, submitted.body.slice(0, 500)).toMatchObject({ ok: true });
    const [claim] = await sql<{ id: number; task_id: number }[]>`
      select r.id, t.id as task_id from reimbursements r join approval_tasks t on t.reimbursement_id = r.id
      where r.receipt_from = ${receiptFrom}`;
    // A device of the employee, from the push service double.
    const { publicKey } = (await (await bo.get("/api/push/public-key")).json()) as { publicKey: string };
    const subscription = await (
      await fetch(`${PUSH_CONTROL}/subscriptions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ applicationServerKey: publicKey }),
      })
    ).json();
    const saved = await bo.post("/api/push/subscriptions", { data: subscription });
    expect(saved.status()).toBe(201);
    const { id: deviceId } = (await saved.json()) as { id: number };
    // A finished background execution: ownership is checked before its state ("already finished").
    const [execution] = await sql<{ id: number }[]>`
      insert into executions (chain_name, user_id, session_id, input, status, started_at, finished_at)
      select 'system.wait', id, 'matrix', ${sql.json({ steps: 0, stepMs: 0 })}, 'SUCCESS', now(), now()
      from users where username = 'bo'
      returning id`;
    data = { claimId: claim!.id, taskId: claim!.task_id, deviceId, executionId: execution!.id };
  } finally {
    await sql.end();
    await bo.dispose();
  }
});

/** allow | deny as the app answered, plus what was seen (for the failure message). */
async function outcome(
  entry: MatrixEntry,
  request: APIRequestContext,
  baseURL: string,
): Promise<{ access: "allow" | "deny"; seen: string }> {
  if ("page" in entry) {
    const url = entry.url?.(data) ?? entry.page;
    const response = await request.get(url, { maxRedirects: 0 });
    const status = response.status();
    const location = response.headers().location ?? "";
    expect(status, `${url}: no server error`).toBeLessThan(500);
    const denied =
      [401, 403, 404].includes(status) || (status >= 300 && status < 400 && location.includes("/signin"));
    return { access: denied ? "deny" : "allow", seen: `${status} ${location}` };
  }
  if ("route" in entry) {
    const [method, pattern] = entry.route.split(" ") as [string, string];
    const url = entry.url?.(data) ?? pattern;
    const response = await request.fetch(url, {
      method,
      maxRedirects: 0,
      ...(entry.body === undefined ? {} : { data: entry.body }),
      ...(method === "POST" && url.startsWith("/api/auth/") ? { form: {} } : {}),
    });
    const status = response.status();
    expect(status, `${method} ${url}: no server error`).toBeLessThan(500);
    const refused = entry.hidesAsMissing ? [401, 403, 404] : [401, 403];
    return { access: refused.includes(status) ? "deny" : "allow", seen: String(status) };
  }
  const args = entry
    .args(data)
    .map((arg) =>
      arg && typeof arg === "object" && "form" in arg
        ? new FormArg((arg as { form: Record<string, string> }).form)
        : arg,
    );
  const response = await callAction(request, entry.action, args, baseURL);
  expect(response.status, `${entry.action}: no server error\n${response.body.slice(0, 300)}`).toBeLessThan(
    500,
  );
  const error = response.result?.ok === false ? (response.result.error ?? "") : "";
  const denied =
    REFUSED_ACTION.test(error) ||
    Boolean(entry.refusedWith?.test(error)) ||
    (response.status >= 300 && response.status < 400 && (response.location ?? "").includes("/signin"));
  return { access: denied ? "deny" : "allow", seen: `${response.status} ${JSON.stringify(response.result)}` };
}

for (const entry of accessMatrix) {
  const name = `${entryKey(entry)}${"variant" in entry && entry.variant ? ` (${entry.variant})` : ""}`;
  test(name, async ({ baseURL }) => {
    const expected = rules[entry.rule];
    // The owner goes last: an allowed call by the owner may change the row the others were refused.
    for (const persona of personas) {
      // Sessions are revocable (SPEC H3): a check that signs out gets a sign-in of its own.
      const context =
        "endsSession" in entry && entry.endsSession
          ? await requestAs(baseURL!, personaUsers[persona])
          : await request.newContext({ baseURL, storageState: states.get(persona) });
      try {
        const seen = await outcome(entry, context, baseURL!);
        expect(seen.access, `${name} as ${persona} (${entry.rule}): ${seen.seen}`).toBe(expected[persona]);
      } finally {
        await context.dispose();
      }
    }
  });
}
