// GET /api/metrics (SPEC Q8): Prometheus text for administrators and for a scraper with METRICS_TOKEN
// (playwright.config.ts sets it for the app under test); everybody else gets a JSON 401/403.
import { expect, test } from "@playwright/test";
import { signIn } from "./support/fixtures";

const TOKEN = "e2e-metrics-token-0123456789";

test("an administrator and a scraper with the token get Prometheus metrics; others are refused", async ({
  page,
  playwright,
  baseURL,
}) => {
  const anonymous = await playwright.request.newContext({ baseURL });
  try {
    const signedOut = await anonymous.get("/api/metrics");
    expect(signedOut.status()).toBe(401);
    expect(await signedOut.json()).toMatchObject({ ok: false, code: "unauthorized" });
    const wrongToken = await anonymous.get("/api/metrics", {
      headers: { authorization: "Bearer not-the-token-0000" },
    });
    expect(wrongToken.status()).toBe(401);
    expect(await wrongToken.json()).toMatchObject({ ok: false, error: "The metrics token is not valid." });

    const scraper = await anonymous.get("/api/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraper.status()).toBe(200);
    expect(scraper.headers()["content-type"]).toContain("text/plain");
    const text = await scraper.text();
    for (const line of [
      /^push_queue_messages\{status="queued",priority="normal"\} \d+$/m,
      /^push_queue_messages\{status="sent",priority="low"\} \d+$/m,
      /^executions_queue_executions/m,
      /^worker_processes_live\{kind="web"\} [1-9]\d*$/m,
      /^# TYPE execution_wait_to_start_seconds histogram$/m,
      /^# TYPE execution_duration_seconds histogram$/m,
      // Counted by the worker running inside the web server: the same registry serves the route.
      /^push_claim_duration_seconds_count [1-9]\d*$/m,
      /^# TYPE push_deliveries_total counter$/m,
    ]) {
      expect(text).toMatch(line);
    }
  } finally {
    await anonymous.dispose();
  }

  await signIn(page, "bo");
  const employee = await page.request.get("/api/metrics");
  expect(employee.status()).toBe(403);
  expect(await employee.json()).toMatchObject({ ok: false, code: "forbidden" });

  await page.context().clearCookies();
  await signIn(page, "admin");
  const admin = await page.request.get("/api/metrics");
  expect(admin.status()).toBe(200);
  expect(await admin.text()).toMatch(/^push_queue_messages\{/m);
});
