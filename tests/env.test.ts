import { describe, expect, it } from "vitest";
import { ConfigError, parseEnv } from "@/lib/env";

const secret = "s".repeat(40);

describe("parseEnv", () => {
  it("applies the documented defaults", () => {
    const env = parseEnv({ NEXTAUTH_SECRET: secret });
    expect(env.PORT).toBe(3000);
    expect(env.APP_URL).toBe("http://localhost:3000");
    expect(env.databaseKind).toBe("pglite");
    expect(env.DEMO_PASSWORD).toBe("demo");
    expect(env.WORKER_IN_WEB).toBe(true);
    expect(env.BACKGROUND_MAX_CONCURRENT).toBeGreaterThan(0);
  });

  it("derives APP_URL from PORT and strips a trailing slash from an explicit one", () => {
    expect(parseEnv({ NEXTAUTH_SECRET: secret, PORT: "4100" }).APP_URL).toBe("http://localhost:4100");
    expect(parseEnv({ NEXTAUTH_SECRET: secret, APP_URL: "https://approvals.example.com/" }).APP_URL).toBe(
      "https://approvals.example.com",
    );
  });

  it("uses PostgreSQL when DATABASE_URL is set and treats empty values as unset", () => {
    expect(parseEnv({ NEXTAUTH_SECRET: secret, DATABASE_URL: "postgres://u@h/db" }).databaseKind).toBe(
      "postgres",
    );
    expect(parseEnv({ NEXTAUTH_SECRET: secret, DATABASE_URL: "" }).databaseKind).toBe("pglite");
  });

  it("accepts 0 as the background limit and false for the in-process worker", () => {
    const env = parseEnv({ NEXTAUTH_SECRET: secret, BACKGROUND_MAX_CONCURRENT: "0", WORKER_IN_WEB: "false" });
    expect(env.BACKGROUND_MAX_CONCURRENT).toBe(0);
    expect(env.WORKER_IN_WEB).toBe(false);
  });

  it("reports every bad variable by name with what was given", () => {
    try {
      parseEnv({
        NEXTAUTH_SECRET: "short",
        PORT: "abc",
        DATABASE_URL: "mysql://x",
        WORKER_IN_WEB: "maybe",
        APP_URL: "ftp://x",
        VAPID_SUBJECT: "mailto:localhost",
      });
      expect.unreachable("parseEnv should have thrown");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as ConfigError).message;
      expect(message).toMatch(/^Invalid configuration:/);
      for (const name of [
        "NEXTAUTH_SECRET",
        "PORT",
        "DATABASE_URL",
        "WORKER_IN_WEB",
        "APP_URL",
        "VAPID_SUBJECT",
      ]) {
        expect(message).toContain(`${name}:`);
      }
      expect(message).toContain('(got "abc")');
    }
  });

  it("rejects negative limits and out-of-range ports", () => {
    expect(() => parseEnv({ NEXTAUTH_SECRET: secret, BACKGROUND_MAX_CONCURRENT: "-1" })).toThrow(
      /BACKGROUND_MAX_CONCURRENT/,
    );
    expect(() => parseEnv({ NEXTAUTH_SECRET: secret, BACKGROUND_LEASE_SECONDS: "0" })).toThrow(
      /BACKGROUND_LEASE_SECONDS: must be at least 1/,
    );
    expect(parseEnv({ NEXTAUTH_SECRET: secret }).BACKGROUND_LEASE_SECONDS).toBe(15);
    expect(() => parseEnv({ NEXTAUTH_SECRET: secret, PORT: "70000" })).toThrow(
      /PORT: must be between 1 and 65535/,
    );
    expect(() => parseEnv({ NEXTAUTH_SECRET: secret, WORKER_CONCURRENCY: "0" })).toThrow(
      /WORKER_CONCURRENCY/,
    );
  });

  it("generates a secret once and keeps it for the next start", () => {
    const first = parseEnv({}).NEXTAUTH_SECRET;
    const second = parseEnv({}).NEXTAUTH_SECRET;
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(second).toBe(first);
  });
});
