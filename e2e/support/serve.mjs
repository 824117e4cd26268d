#!/usr/bin/env node
// The app under test: a fresh PostgreSQL database, then `npm start` against it. The database is dropped
// when the server stops.
import { spawn } from "node:child_process";
import path from "node:path";
import postgres from "postgres";

const root = path.resolve(import.meta.dirname, "../..");
const adminUrl = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const name = process.env.E2E_DATABASE;
if (!name || !/^[a-z0-9_]+$/.test(name)) throw new Error("E2E_DATABASE must be set to a plain name");

const databaseUrl = new URL(adminUrl);
databaseUrl.pathname = `/${name}`;

async function admin(statement) {
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end();
  }
}

await admin(`drop database if exists "${name}" with (force)`);
await admin(`create database "${name}"`);

const server = spawn(process.execPath, [path.join(root, "scripts/start.mjs")], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    DATABASE_URL: databaseUrl.toString(),
    NEXTAUTH_SECRET: process.env.NEXTAUTH_SECRET ?? "e2e-secret-e2e-secret-e2e-secret-0123456789",
    DEMO_PASSWORD: "demo",
  },
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  server.kill(signal);
}
process.on("SIGTERM", () => stop("SIGTERM"));
process.on("SIGINT", () => stop("SIGINT"));
server.on("exit", async (code) => {
  await admin(`drop database if exists "${name}" with (force)`).catch((error) => console.error(error));
  process.exit(stopping ? 0 : (code ?? 1));
});
