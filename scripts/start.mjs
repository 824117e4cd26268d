#!/usr/bin/env node
// `npm start`: builds the production bundle when its inputs changed, then serves it.
// Migrations, seed and the in-process worker start inside the server (instrumentation.ts).
//
// Whether to build is decided by content: a hash of every input file is stored beside the build, so
// `npm install` touching package-lock.json (same bytes, new mtime) does not cost a rebuild. A build never
// happens under a running server from this folder (it would pull `.next` out from under it): servers
// register themselves in `.data/servers/`, and a start that would need to rebuild while one runs refuses
// with a message. Two starts at once (the e2e suite) take turns through a lock; the second one finds the
// build up to date. `node scripts/start.mjs --build-only` builds when needed and exits.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const root = path.resolve(import.meta.dirname, "..");
const buildIdFile = path.join(root, ".next", "BUILD_ID");
const stampFile = path.join(root, ".next", "build-inputs.json");
const stateDir = path.join(root, ".data");
const serversDir = path.join(stateDir, "servers");
const lockFile = path.join(stateDir, "build.lock");
const SOURCES = [
  "app",
  "components",
  "lib",
  "db",
  "public",
  "proxy.ts",
  "instrumentation.ts",
  "next.config.mjs",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
];

function listFiles(entry, out) {
  const full = path.join(root, entry);
  if (!existsSync(full)) return out;
  if (!statSync(full).isDirectory()) {
    out.push(entry);
    return out;
  }
  for (const child of readdirSync(full).sort()) listFiles(path.join(entry, child), out);
  return out;
}

/** sha256 over the path and bytes of every input file. */
function inputsHash() {
  const hash = createHash("sha256");
  for (const file of SOURCES.flatMap((entry) => listFiles(entry, []))) {
    hash.update(`${file}\0`);
    hash.update(readFileSync(path.join(root, file)));
    hash.update("\0");
  }
  return hash.digest("hex");
}

function newestMtime(entry) {
  const full = path.join(root, entry);
  if (!existsSync(full)) return 0;
  const stat = statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const child of readdirSync(full)) newest = Math.max(newest, newestMtime(path.join(entry, child)));
  return newest;
}

const readJson = (file) => {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
};

/** "fresh" when the build matches the inputs' hash; an outside `next build` is adopted when newer than every input. */
function buildState(hash) {
  if (!existsSync(buildIdFile)) return "missing";
  const buildId = readFileSync(buildIdFile, "utf8").trim();
  const stamp = readJson(stampFile);
  if (stamp?.buildId === buildId) return stamp.hash === hash ? "fresh" : "stale";
  if (Math.max(...SOURCES.map(newestMtime)) <= statSync(buildIdFile).mtimeMs) {
    writeFileSync(stampFile, JSON.stringify({ hash, buildId }));
    return "fresh";
  }
  return "stale";
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === "EPERM";
  }
};

function runningServers() {
  if (!existsSync(serversDir)) return [];
  const servers = [];
  for (const name of readdirSync(serversDir)) {
    const entry = readJson(path.join(serversDir, name));
    if (entry && entry.pid !== process.pid && alive(entry.pid)) servers.push(entry);
    else if (!entry || entry.pid !== process.pid) rmSync(path.join(serversDir, name), { force: true });
  }
  return servers;
}

function tryLock() {
  mkdirSync(stateDir, { recursive: true });
  try {
    closeSync(openSync(lockFile, "wx"));
    writeFileSync(lockFile, String(process.pid));
    return true;
  } catch {
    const holder = Number(readFileSync(lockFile, "utf8"));
    if (holder && !alive(holder)) rmSync(lockFile, { force: true });
    return false;
  }
}

const nextBin = path.join(root, "node_modules", ".bin", "next");

/** Builds when needed, one process at a time; refuses while a server from this folder would lose its build. */
async function ensureBuild() {
  let announced = false;
  for (;;) {
    const hash = inputsHash();
    const state = buildState(hash);
    if (state === "fresh") return;
    if (!tryLock()) {
      if (!announced) console.log("[start] another process is building the app; waiting for it…");
      announced = true;
      await sleep(1000);
      continue;
    }
    try {
      if (buildState(hash) === "fresh") return;
      const servers = runningServers();
      if (servers.length > 0) {
        const list = servers.map((s) => `pid ${s.pid} on port ${s.port}`).join(", ");
        console.error(
          `[start] The sources changed since the last build, but a server from this folder is running on that build (${list}).\n` +
            "[start] Rebuilding now would break it. Stop it, then run `npm start` again.",
        );
        process.exit(1);
      }
      console.log(`[start] building the app (${state === "missing" ? "first start" : "sources changed"})…`);
      const build = spawnSync(nextBin, ["build"], { cwd: root, stdio: "inherit" });
      if (build.status !== 0) process.exit(build.status ?? 1);
      const buildId = readFileSync(buildIdFile, "utf8").trim();
      // Hash again: an edit made during the build must trigger the next one.
      writeFileSync(stampFile, JSON.stringify({ hash: hash === inputsHash() ? hash : "", buildId }));
      return;
    } finally {
      rmSync(lockFile, { force: true });
    }
  }
}

await ensureBuild();
if (process.argv.includes("--build-only")) process.exit(0);

const port = process.env.PORT || "3000";
mkdirSync(serversDir, { recursive: true });
const registration = path.join(serversDir, `${process.pid}.json`);
writeFileSync(registration, JSON.stringify({ pid: process.pid, port }));
const server = spawn(nextBin, ["start", "--port", port], { cwd: root, stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => server.kill(signal));
server.on("exit", (code, signal) => {
  rmSync(registration, { force: true });
  process.exit(code ?? (signal ? 1 : 0));
});
