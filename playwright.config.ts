import { tmpdir } from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

const port = Number(process.env.E2E_PORT ?? 3100);
const baseURL = `http://localhost:${port}`;
/** The push service double: HTTPS push endpoint and a plain-HTTP control API for the tests. */
const pushPort = port + 1000;
/** A second server on the embedded database, as `npm install && npm start` runs it on a fresh machine. */
const embeddedPort = port + 50;
process.env.E2E_EMBEDDED_URL ??= `http://localhost:${embeddedPort}`;
process.env.E2E_PGLITE_DIR ??= path.join(tmpdir(), `an-e2e-pglite-${Date.now().toString(36)}`);
process.env.PUSH_DOUBLE_CONTROL ??= `http://127.0.0.1:${pushPort + 1}`;
process.env.PUSH_DOUBLE_ORIGIN ??= `https://localhost:${pushPort}`;
// One database per run, named once here: worker processes inherit the variable.
process.env.E2E_DATABASE ??= `an_e2e_${Date.now().toString(36)}`;

/** Debian's Chromium: Playwright cannot download its own browser on these machines. */
const launchOptions = {
  executablePath: process.env.PLAYWRIGHT_CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
  ],
};

export default defineConfig({
  testDir: "e2e",
  testMatch: "**/*.spec.ts",
  fullyParallel: true,
  workers: 2,
  retries: process.env.CI ? 1 : 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: { baseURL, trace: "retain-on-failure", screenshot: "only-on-failure" },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], launchOptions } },
    {
      name: "phone",
      use: {
        ...devices["iPhone 13"],
        browserName: "chromium",
        defaultBrowserType: "chromium",
        launchOptions,
      },
    },
  ],
  webServer: [
    {
      command: "node_modules/.bin/tsx e2e/support/push-double-main.ts",
      url: `${process.env.PUSH_DOUBLE_CONTROL}/health`,
      reuseExistingServer: false,
      env: { PUSH_DOUBLE_PORT: String(pushPort), PUSH_DOUBLE_CONTROL_PORT: String(pushPort + 1) },
    },
    {
      command: "node e2e/support/serve.mjs",
      url: `${baseURL}/api/health`,
      reuseExistingServer: false,
      timeout: 240_000,
      stdout: "pipe",
      stderr: "pipe",
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
      env: {
        PORT: String(port),
        APP_URL: baseURL,
        E2E_DATABASE: process.env.E2E_DATABASE,
        PUSH_ENDPOINT_ALLOWLIST: `localhost:${pushPort}`,
        NODE_EXTRA_CA_CERTS: "e2e/support/certs/ca.crt",
        METRICS_TOKEN: "e2e-metrics-token-0123456789",
        // Department processing takes 60–100 s in the demo; the e2e run processes in 40 s: long enough that
        // a second person on a busy machine still finds it running, short enough to wait for the end.
        DEPARTMENT_PROCESSING_SECONDS: "40",
        // Both projects' department tests run side by side (four 40 s runs): leave slots for the other tests.
        BACKGROUND_MAX_CONCURRENT: "8",
        // Specs in parallel start several long executions for one user (bo): the per-user limit (default
        // half of the application's) would keep some of them waiting. Fairness is tested in
        // tests/chains-fairness.test.ts.
        BACKGROUND_MAX_PER_USER: "8",
        // Every test signs in from 127.0.0.1: the per-address limit of failures would stop the whole run.
        SIGNIN_ADDRESS_FAILURES_PER_HOUR: "1000",
      },
    },
    {
      command: "node scripts/start.mjs",
      url: `${process.env.E2E_EMBEDDED_URL}/api/health`,
      reuseExistingServer: false,
      timeout: 240_000,
      gracefulShutdown: { signal: "SIGTERM", timeout: 10_000 },
      env: {
        PORT: String(embeddedPort),
        DATABASE_URL: "",
        PGLITE_DATA_DIR: process.env.E2E_PGLITE_DIR,
        DEPARTMENT_PROCESSING_SECONDS: "4",
      },
    },
  ],
});
