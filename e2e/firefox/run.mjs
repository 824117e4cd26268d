#!/usr/bin/env node
// `npm run test:firefox` (and the end of `npm run test:e2e`): the Firefox push tests, offline.
//
// Firefox, the app server and the local push service run in a loopback-only network namespace of their
// own (`unshare --net`), so nothing Firefox tries to reach outside can leave the machine. PostgreSQL
// listens in the root namespace, which a new namespace cannot reach over TCP; a unix socket can be: this
// process (root namespace) relays a unix socket to PostgreSQL, and the tests (inside) relay a loopback
// port to that socket (e2e/firefox/harness.ts).
// Usage: node e2e/firefox/run.mjs [test files…]   (default: every e2e/firefox/*.test.ts)
//        node e2e/firefox/run.mjs --script bench/firefox-latency.ts   (a plain script, same namespace)
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");
const firefox = process.env.FIREFOX_PATH ?? "/usr/bin/firefox-esr";
const probe = spawnSync(firefox, ["--version"], { encoding: "utf8" });
if (probe.status !== 0) {
  console.error(`Firefox not found at ${firefox} (install firefox-esr or set FIREFOX_PATH).`);
  process.exit(1);
}
const netns = spawnSync("unshare", ["--net", "true"]);
if (netns.status !== 0) {
  console.error(
    "`unshare --net` failed: the Firefox tests need root (or CAP_SYS_ADMIN) for their offline namespace.",
  );
  process.exit(1);
}

const admin = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
const dir = mkdtempSync(path.join(tmpdir(), "an-firefox-"));
const socketPath = path.join(dir, "pg.sock");
const relay = net.createServer((client) => {
  const upstream = net.connect(Number(admin.port || 5432), admin.hostname);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on("error", close);
  upstream.on("error", close);
});
await new Promise((resolve) => relay.listen(socketPath, resolve));

const args = process.argv.slice(2);
const quote = (value) => `'${value.replaceAll("'", "'\\''")}'`;
let command;
if (args[0] === "--script") {
  command = `node --import tsx ${quote(args[1])}`;
} else {
  const tests = args.length
    ? args
    : readdirSync(path.join(root, "e2e/firefox"))
        .filter((name) => name.endsWith(".test.ts"))
        .map((name) => path.join("e2e/firefox", name));
  command = `node --import tsx --test --test-concurrency=1 --test-reporter=spec ${tests.map(quote).join(" ")}`;
}

function runInNamespace() {
  const child = spawn("unshare", ["--net", "sh", "-c", `ip link set lo up && exec ${command}`], {
    cwd: root,
    stdio: "inherit",
    env: {
      ...process.env,
      FIREFOX_PATH: firefox,
      FIREFOX_PG_SOCKET: socketPath,
      FIREFOX_PG_ADMIN_URL: admin.toString(),
      // Firefox's own guard: no connection to a non-loopback address, even if the namespace had one.
      MOZ_DISABLE_NONLOCAL_CONNECTIONS: "1",
    },
  });
  const forward = (signal) => child.kill(signal);
  process.on("SIGINT", forward);
  process.on("SIGTERM", forward);
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      process.off("SIGINT", forward);
      process.off("SIGTERM", forward);
      resolve(code ?? (signal ? 1 : 0));
    }),
  );
}

let status = await runInNamespace();
// Like Playwright's `retries: 1` on CI: the stories share one browser, so a retry runs them all again.
if (status !== 0 && process.env.CI && args[0] !== "--script") {
  console.log("\n[firefox] the run failed; running it once more (CI retry)\n");
  status = await runInNamespace();
}
relay.close();
rmSync(dir, { recursive: true, force: true });
process.exit(status);
