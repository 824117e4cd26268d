// Revocable sessions and sign-in throttling (SPEC H3, H4), on both databases the app runs on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type DatabaseHandle } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { seedDatabase } from "@/db/seed";
import { changePassword, changePasswordSchema } from "@/lib/auth/account";
import { verifyPassword } from "@/lib/auth/password";
import { createUserSession, isSessionActive, revokeSession, revokeUserSessions } from "@/lib/auth/sessions";
import {
  recordSignInFailure,
  recordSignInSuccess,
  signInLimits,
  signInRetryAfter,
} from "@/lib/auth/throttle";
import { CLIENT_ADDRESS_HEADER, clientAddress } from "@/lib/http/client-address";
import { getUserByUsername } from "@/lib/users/queries";
import { createFreshDatabase, dropDatabase } from "./support/postgres";

describe.each(["pglite", "postgres"] as const)("sessions and throttling on %s", (kind) => {
  let handle: DatabaseHandle;
  let name: string | undefined;
  let boId: number;
  let steveId: number;

  beforeAll(async () => {
    let url: string | undefined;
    if (kind === "postgres") ({ name, url } = await createFreshDatabase("an_sec"));
    handle = createDatabase({ url, pgliteDataDir: "memory://" });
    await migrateDatabase(handle, url);
    await seedDatabase(handle.db, "demo");
    boId = (await getUserByUsername({ username: "bo" }, handle.db))!.id;
    steveId = (await getUserByUsername({ username: "steve" }, handle.db))!.id;
  });

  afterAll(async () => {
    await handle.close();
    if (name) await dropDatabase(name);
  });

  it("a session is active until it is revoked, and only for its own user", async () => {
    const id = await createUserSession({ userId: boId, remember: true }, handle.db);
    expect(await isSessionActive({ id, userId: boId }, handle.db)).toBe(true);
    expect(await isSessionActive({ id, userId: steveId }, handle.db)).toBe(false);
    await revokeSession({ id }, handle.db);
    expect(await isSessionActive({ id, userId: boId }, handle.db)).toBe(false);
  });

  it("signing out everywhere ends every session of that user and nobody else's", async () => {
    const phone = await createUserSession({ userId: boId, remember: true }, handle.db);
    const laptop = await createUserSession({ userId: boId, remember: false }, handle.db);
    const steve = await createUserSession({ userId: steveId, remember: false }, handle.db);
    expect(await revokeUserSessions({ userId: boId }, handle.db)).toBe(2);
    expect(await isSessionActive({ id: phone, userId: boId }, handle.db)).toBe(false);
    expect(await isSessionActive({ id: laptop, userId: boId }, handle.db)).toBe(false);
    expect(await isSessionActive({ id: steve, userId: steveId }, handle.db)).toBe(true);
  });

  it("changing the password keeps this session and ends the others", async () => {
    const here = await createUserSession({ userId: steveId, remember: false }, handle.db);
    const elsewhere = await createUserSession({ userId: steveId, remember: true }, handle.db);
    const wrong = await changePassword(
      { userId: steveId, currentPassword: "nope", newPassword: "new-password-1", keepSession: here },
      handle.db,
    );
    expect(wrong).toEqual({ ok: false, wrongPassword: true });
    expect(await isSessionActive({ id: elsewhere, userId: steveId }, handle.db)).toBe(true);
    const changed = await changePassword(
      { userId: steveId, currentPassword: "demo", newPassword: "new-password-1", keepSession: here },
      handle.db,
    );
    expect(changed.ok).toBe(true);
    expect(await isSessionActive({ id: here, userId: steveId }, handle.db)).toBe(true);
    expect(await isSessionActive({ id: elsewhere, userId: steveId }, handle.db)).toBe(false);
    const user = await getUserByUsername({ username: "steve" }, handle.db);
    expect(await verifyPassword("new-password-1", user!.passwordHash)).toBe(true);
    expect(await verifyPassword("demo", user!.passwordHash)).toBe(false);
  });

  it("throttles one account from one address after 5 failures, and says how long", async () => {
    const who = { username: `Guess-${kind}`, address: "203.0.113.7" };
    expect(signInLimits().accountAddress.failures).toBe(5);
    for (let attempt = 1; attempt < 5; attempt++) {
      expect(await signInRetryAfter(who, handle.db)).toBe(0);
      expect(await recordSignInFailure(who, handle.db)).toBe(0);
    }
    // The fifth failure starts the wait: the block duration, and case does not dodge it.
    const wait = await recordSignInFailure(who, handle.db);
    expect(wait).toBeGreaterThan(signInLimits().accountAddress.blockDuration - 5);
    expect(wait).toBeLessThanOrEqual(signInLimits().accountAddress.blockDuration);
    expect(
      await signInRetryAfter({ ...who, username: who.username.toUpperCase() }, handle.db),
    ).toBeGreaterThan(0);
    // Another address for the same account is still let through (below the per-account limit).
    expect(await signInRetryAfter({ ...who, address: "198.51.100.1" }, handle.db)).toBe(0);
  });

  it("a success forgives that account's failures from that address", async () => {
    const who = { username: `typo-${kind}`, address: "203.0.113.8" };
    for (let i = 0; i < 4; i++) await recordSignInFailure(who, handle.db);
    await recordSignInSuccess(who, handle.db);
    for (let i = 0; i < 4; i++) {
      expect(await recordSignInFailure(who, handle.db)).toBe(0);
    }
  });

  it("throttles an address spraying many accounts", async () => {
    const address = `192.0.2.${kind === "pglite" ? 1 : 2}`;
    let wait = 0;
    let failures = 0;
    while (wait === 0 && failures < 1000) {
      wait = await recordSignInFailure({ username: `user-${failures}`, address }, handle.db);
      failures += 1;
    }
    expect(failures).toBe(signInLimits().address.failures);
    expect(wait).toBeGreaterThan(0);
    expect(await signInRetryAfter({ username: "someone-new", address }, handle.db)).toBeGreaterThan(0);
    expect(await signInRetryAfter({ username: "someone-new", address: "192.0.2.200" }, handle.db)).toBe(0);
  });
});

describe("client address", () => {
  it("ignores X-Forwarded-For unless proxies are configured", () => {
    const headers = new Headers({ "x-forwarded-for": "1.2.3.4", [CLIENT_ADDRESS_HEADER]: "10.0.0.9" });
    expect(clientAddress(headers, 0)).toBe("10.0.0.9");
    // One proxy appends the address it saw; what the client wrote before it is not trusted.
    const behindProxy = new Headers({ "x-forwarded-for": "6.6.6.6, 198.51.100.4" });
    expect(clientAddress(behindProxy, 1)).toBe("198.51.100.4");
    expect(clientAddress(new Headers(), 0)).toBe("unknown");
  });
});

describe("new password rules", () => {
  it("refuse short, control characters, over 72 bytes, mismatch and reuse", () => {
    const errors = (input: Record<string, string>) => {
      const parsed = changePasswordSchema.safeParse(input);
      return parsed.success ? {} : Object.fromEntries(parsed.error.issues.map((i) => [i.path[0], i.message]));
    };
    const base = { currentPassword: "demo", newPassword: "long-enough-1", confirmPassword: "long-enough-1" };
    expect(errors(base)).toEqual({});
    expect(errors({ ...base, newPassword: "short", confirmPassword: "short" }).newPassword).toMatch(
      /at least 8/,
    );
    expect(errors({ ...base, newPassword: "bad\nline1", confirmPassword: "bad\nline1" }).newPassword).toMatch(
      /control/,
    );
    const long = "é".repeat(40);
    expect(errors({ ...base, newPassword: long, confirmPassword: long }).newPassword).toMatch(/72 bytes/);
    expect(errors({ ...base, confirmPassword: "other-one-1" }).confirmPassword).toMatch(/differ/);
    expect(errors({ ...base, currentPassword: "long-enough-1" }).newPassword).toMatch(/different/);
  });
});
