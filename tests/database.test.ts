import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PUSH_CHANNEL } from "@/db/channels";
import { createDatabase, type DatabaseHandle, queryRows } from "@/db/client";
import { migrateDatabase } from "@/db/migrate";
import { departments, users } from "@/db/schema";
import { DEMO_DEPARTMENTS, DEMO_USERS, seedDatabase } from "@/db/seed";
import { verifyPassword } from "@/lib/auth/password";
import { sendPushNotification } from "@/lib/push/send";
import { getUserByUsername } from "@/lib/users/queries";
import { createFreshDatabase, dropDatabase } from "./support/postgres";

// The same migrations and seed must serve both the embedded default and a real PostgreSQL.
describe.each(["pglite", "postgres"] as const)("database layer on %s", (kind) => {
  let handle: DatabaseHandle;
  let url: string | undefined;
  let name: string | undefined;

  beforeAll(async () => {
    if (kind === "postgres") ({ name, url } = await createFreshDatabase("an_db"));
    handle = createDatabase({ url, pgliteDataDir: "memory://" });
    await migrateDatabase(handle, url);
    await seedDatabase(handle.db, "demo");
  });

  afterAll(async () => {
    await handle.close();
    if (name) await dropDatabase(name);
  });

  it("seeds the demo users with hashed passwords and their roles", async () => {
    const rows = await handle.db.select().from(users).orderBy(users.id);
    expect(rows.map((user) => [user.username, user.role])).toEqual(
      DEMO_USERS.map((u) => [u.username, u.role]),
    );
    for (const user of rows) {
      expect(user.passwordHash).not.toContain("demo");
      expect(await verifyPassword("demo", user.passwordHash)).toBe(true);
    }
  });

  it("seeds the four departments of the demo", async () => {
    const rows = await handle.db.select().from(departments).orderBy(departments.deptno);
    expect(rows).toEqual(DEMO_DEPARTMENTS);
  });

  it("is idempotent and follows a changed DEMO_PASSWORD", async () => {
    await migrateDatabase(handle, url);
    await seedDatabase(handle.db, "demo");
    expect(await handle.db.$count(users)).toBe(4);
    await seedDatabase(handle.db, "another-password");
    const bo = await getUserByUsername({ username: "BO " }, handle.db);
    expect(bo?.username).toBe("bo");
    expect(await verifyPassword("another-password", bo!.passwordHash)).toBe(true);
    expect(await handle.db.$count(departments)).toBe(4);
  });

  it("refuses a username that is not lower case", async () => {
    await expect(
      handle.db.insert(users).values({ username: "Mixed", displayName: "Mixed", passwordHash: "x" }),
    ).rejects.toThrow();
    expect(await handle.db.$count(users, eq(users.username, "Mixed"))).toBe(0);
  });

  it("delivers NOTIFY to a listener", async () => {
    let deliver: (payload: string) => void = () => {};
    const received = new Promise<string>((resolve) => {
      deliver = resolve;
    });
    // listen() resolves once LISTEN is in place.
    await handle.listen("db_test_channel", (payload) => deliver(payload));
    await handle.db.execute(sql`select pg_notify('db_test_channel', 'hello')`);
    expect(await received).toBe("hello");
    const [row] = await queryRows<{ one: number }>(handle.db, sql`select 1 as one`);
    expect(row?.one).toBe(1);
  });

  it("queues a notification per device and wakes the sender once (the enqueue's wake check, 0019)", async () => {
    await handle.db.execute(sql`
      insert into push_subscriptions (user_id, endpoint, p256dh, auth, device_label)
      select id, 'https://push.example.net/db-test/' || n, 'BNotUsed', 'not-used', 'test'
      from users, generate_series(1, 2) n where username = 'bo'`);
    const heard: string[] = [];
    await handle.listen(PUSH_CHANNEL, (payload) => heard.push(payload));
    const first = await sendPushNotification(
      { userName: "bo", title: "One", body: "", targetUrl: "/" },
      handle.db,
    );
    // Something is already due now: the second call does not wake the sender again.
    const second = await sendPushNotification(
      { userName: "bo", title: "Two", body: "", targetUrl: "/" },
      handle.db,
    );
    expect([first.queued, second.queued]).toEqual([2, 2]);
    // Notifications arrive in commit order: once this one is heard, every wake-up before it was.
    await handle.db.execute(sql`select pg_notify(${PUSH_CHANNEL}, 'end')`);
    await expect.poll(() => heard.includes("end")).toBe(true);
    expect(heard).toEqual(["", "end"]);
    const [queued] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from push_messages where status = 'queued'`,
    );
    expect(queued?.n).toBe(4);
  });
});
