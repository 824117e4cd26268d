import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "../..");

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

/**
 * `npm run worker`'s command line (package.json): node itself with tsx as a loader. Not the `tsx` binary,
 * whose signal relay turns a SIGTERM into a SIGKILL when the child does not confirm within 30 ms (a busy
 * machine), so a worker would die without its graceful shutdown.
 */
export const WORKER_ARGS = ["--conditions=react-server", "--import", "tsx", "lib/runtime/worker-cli.ts"];

/** The worker, in its own process group (SIGKILL reaches it and anything it starts). */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  let output = "";
  const child: ChildProcess = spawn(process.execPath, WORKER_ARGS, {
    cwd: root,
    env: {
      NODE_ENV: "production",
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_EXTRA_CA_CERTS: path.join(root, "e2e/support/certs/ca.crt"),
      // As in the test process (tests/support/setup-env.ts): no purge landing in a test's counts.
      BACKGROUND_SCHEDULES: "false",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(-(child.pid ?? 0), signal);
    } catch {
      // already gone
    }
  };
  return { child, output: () => output, exited, kill };
}

/** Resolves once the worker announced itself; fails with its output otherwise. */
export async function workerStarted(worker: WorkerProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!worker.output().includes("started (") && Date.now() < deadline) {
    if (worker.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!worker.output().includes("started (")) throw new Error(`worker did not start:\n${worker.output()}`);
}
