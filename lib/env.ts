import "server-only";
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

/** Folder for everything the app keeps on local disk (embedded database, generated secret, uploads). */
export const DATA_DIR = path.resolve(process.cwd(), ".data");

const booleanFlag = z
  .enum(["true", "false", "1", "0", "yes", "no"], { message: "must be true or false" })
  .transform((value) => value === "true" || value === "1" || value === "yes");

const count = (label: string) =>
  z.coerce
    .number({ message: `must be a whole number (${label})` })
    .int({ message: `must be a whole number (${label})` })
    .min(0, { message: `must be 0 or more (${label})` });

const httpOrigin = z
  .string()
  .url({ message: "must be an absolute http(s) URL such as https://approvals.example.com" })
  .refine((value) => /^https?:\/\//.test(value), { message: "must start with http:// or https://" })
  .transform((value) => value.replace(/\/+$/, ""));

const schema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: z.coerce
    .number({ message: "must be a port number" })
    .int()
    .min(1, { message: "must be between 1 and 65535" })
    .max(65535, { message: "must be between 1 and 65535" })
    .default(3000),
  APP_URL: httpOrigin.optional(),
  NEXTAUTH_SECRET: z.string().min(32, { message: "must be at least 32 characters" }).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, { message: "must be a postgres:// or postgresql:// connection URL" })
    .optional(),
  /** Where the embedded database lives when DATABASE_URL is unset; "memory://" keeps it in memory. */
  PGLITE_DATA_DIR: z.string().min(1).optional(),
  /** How long a "Remember me" sign-in lasts (a persistent cookie); other sign-ins end with the browser. */
  SESSION_MAX_AGE_DAYS: z.coerce
    .number({ message: "must be a number of days" })
    .int({ message: "must be a whole number of days" })
    .min(1, { message: "must be at least 1" })
    .max(365, { message: "must be at most 365" })
    .default(30),
  /**
   * Proxies in front of the app that append the client's address to X-Forwarded-For. 0 (the default):
   * the header is the client's own words and is ignored; the socket's address counts.
   */
  TRUST_PROXY: count("proxy hops in front of the app").max(10, { message: "must be at most 10" }).default(0),
  /** Failed sign-ins from one client address (any account) in an hour before it waits 15 minutes. */
  SIGNIN_ADDRESS_FAILURES_PER_HOUR: count("failed sign-ins")
    .min(1, { message: "must be at least 1" })
    .default(50),
  DEMO_PASSWORD: z.string().min(1, { message: "must not be empty" }).max(72).default("demo"),
  VAPID_SUBJECT: z
    .string()
    .regex(/^(mailto:[^@\s]+@[^@\s]+|https:\/\/\S+)$/, {
      message: "must be mailto:someone@example.com or an https:// URL",
    })
    .default("mailto:admin@approval-notifications.example.com"),
  PUSH_ENDPOINT_ALLOWLIST: z.string().optional(),
  PUSH_PROXY: z.string().url({ message: "must be a proxy URL such as http://proxy:3128" }).optional(),
  HTTPS_PROXY: z.string().url({ message: "must be a proxy URL such as http://proxy:3128" }).optional(),
  WORKER_IN_WEB: booleanFlag.default(true),
  WORKER_CONCURRENCY: count("jobs per worker process").min(1, { message: "must be at least 1" }).default(8),
  BACKGROUND_MAX_CONCURRENT: count("0 means nothing starts")
    .max(10_000, { message: "must be at most 10000 (one slot row each)" })
    .default(4),
  /** Running executions per user at once; default half of BACKGROUND_MAX_CONCURRENT, at least 1. */
  BACKGROUND_MAX_PER_USER: count("executions per user").min(1, { message: "must be at least 1" }).optional(),
  /** Whether this process's worker fires the cron schedules (the purge, every 10 minutes): off on a worker
   * that should only run executions, and in the test suites, whose counts the purge would change. */
  BACKGROUND_SCHEDULES: booleanFlag.default(true),
  /** How long a background execution's lease lasts without a heartbeat: the dead-worker detection time. */
  BACKGROUND_LEASE_SECONDS: z.coerce
    .number({ message: "must be a number of seconds" })
    .min(1, { message: "must be at least 1" })
    .max(600, { message: "must be at most 600" })
    .default(15),
  /** Bearer token a Prometheus scraper sends to GET /api/metrics (administrators may use their session). */
  METRICS_TOKEN: z.string().min(16, { message: "must be at least 16 characters" }).optional(),
  DEPARTMENT_PROCESSING_SECONDS: z.coerce
    .number({ message: "must be a number of seconds" })
    .positive({ message: "must be more than 0" })
    .max(3600, { message: "must be at most 3600" })
    .optional(),
});

export type Env = z.infer<typeof schema> & {
  APP_URL: string;
  NEXTAUTH_SECRET: string;
  databaseKind: "postgres" | "pglite";
};

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Reads the secret kept in .data/ (created on first use) so nobody has to invent one for a local run. */
function storedSecret(): string {
  const file = path.join(DATA_DIR, "auth-secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(DATA_DIR, { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return secret;
}

/** Parses an environment (process.env by default) into a validated config or throws ConfigError. */
export function parseEnv(source: Record<string, string | undefined> = process.env): Env {
  // Empty strings count as unset: `FOO= npm start` should mean "use the default".
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ""));
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const name = issue.path.join(".");
        const given = cleaned[name];
        return `${name}: ${issue.message}${given === undefined ? "" : ` (got "${given.slice(0, 80)}")`}`;
      }),
    );
  }
  const parsed = result.data;
  return {
    ...parsed,
    APP_URL: parsed.APP_URL ?? `http://localhost:${parsed.PORT}`,
    NEXTAUTH_SECRET: parsed.NEXTAUTH_SECRET ?? storedSecret(),
    databaseKind: parsed.DATABASE_URL ? "postgres" : "pglite",
  };
}

let cached: Env | undefined;

/** The validated configuration of this process. The only place that reads process.env. */
export function getEnv(): Env {
  cached ??= parseEnv();
  return cached;
}
