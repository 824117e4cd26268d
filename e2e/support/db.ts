import postgres from "postgres";

/** The e2e run's own database (see playwright.config.ts and serve.mjs), for setting up and checking rows. */
export function e2eDatabase() {
  const name = process.env.E2E_DATABASE;
  if (!name) throw new Error("E2E_DATABASE is not set: run through playwright.config.ts");
  const url = new URL(process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  url.pathname = `/${name}`;
  return postgres(url.toString(), { max: 2, onnotice: () => {} });
}

/** The secret serve.mjs starts the app with (it seals the VAPID private key). */
export const E2E_SECRET = process.env.NEXTAUTH_SECRET ?? "e2e-secret-e2e-secret-e2e-secret-0123456789";
