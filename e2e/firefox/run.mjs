#!/usr/bin/env node
// `npm run test:firefox` (and the end of `npm run test:e2e`): the Firefox push tests, offline.
//
// Firefox, the app server and the local push service run in a loopback-only network namespace of their
// own (`unshare --net`), so nothing Firefox tries to reach outside can leave the machine. PostgreSQL
// listens in the root namespace, which a new namespace cannot reach over TCP; a unix socket can be: this
// process (root namespace) relays a unix socket to PostgreSQL, and the tests (inside) relay a loopback
// port to that socket (e2e/firefox/harness.ts). Usage: node e2e/firefox/run.mjs [test files…]
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

const files = process.argv.slice(2);
const tests = files.length
  ? files
  : readdirSync(path.join(root, "e2e/firefox"))
      .filter((name) => name.endsWith(".test.ts"))
      .map((name) => path.join("e2e/firefox", name));
const inner = [
  "ip link set lo up",
  `exec node --import tsx --test --test-concurrency=1 --test-reporter=spec ${tests.map((t) => `'${t}'`).join(" ")}`,
].join(" && ");
const child = spawn("unshare", ["--net", "sh", "-c", inner], {
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
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  relay.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
