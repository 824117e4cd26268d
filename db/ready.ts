import "server-only";

const globalForReady = globalThis as unknown as { __approvalReady?: Promise<void> };

/**
 * Start-up (lib/runtime) announces here the promise that the database is migrated and seeded, so code
 * that must wait for it (sign-in) need not import the start-up module. Resolved at once when this process
 * did no start-up (tests, scripts).
 */
export function whenDatabaseReady(): Promise<void> {
  return globalForReady.__approvalReady ?? Promise.resolve();
}

/** Runs `prepare` once per process and announces it; later calls get the same promise. */
export function announceDatabaseReady(prepare: () => Promise<void>): Promise<void> {
  globalForReady.__approvalReady ??= prepare();
  return globalForReady.__approvalReady;
}
