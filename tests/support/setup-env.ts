import { inject } from "vitest";

// Code under test reads its configuration through lib/env, as in production.
process.env.DATABASE_URL = inject("databaseUrl");
process.env.NEXTAUTH_SECRET ??= "test-secret-test-secret-test-secret-0123";
process.env.DEMO_PASSWORD = "demo";
// The push service doubles of the integration tests listen on these ports.
process.env.PUSH_ENDPOINT_ALLOWLIST =
  "localhost:4541,localhost:4542,localhost:4543,localhost:4551,localhost:4552";
// Cron schedules (the purge, every ten minutes) would add an execution to whatever test runs at :x0; the
// schedule tests turn them on for their own hosts.
process.env.BACKGROUND_SCHEDULES = "false";
process.env.VAPID_SUBJECT = "mailto:push-tests@approval-notifications.example.com";
