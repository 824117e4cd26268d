import { inject } from "vitest";

// Code under test reads its configuration through lib/env, as in production.
process.env.DATABASE_URL = inject("databaseUrl");
process.env.NEXTAUTH_SECRET ??= "test-secret-test-secret-test-secret-0123";
process.env.DEMO_PASSWORD = "demo";
