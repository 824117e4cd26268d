import path from "node:path";
import { defineConfig } from "vitest/config";

const root = import.meta.dirname;
// The push service double's certificate is trusted the way operators trust a private CA. Node reads this
// at start-up, so it is set here, before vitest forks the test processes.
process.env.NODE_EXTRA_CA_CERTS = path.join(root, "e2e/support/certs/ca.crt");

export default defineConfig({
  resolve: {
    alias: {
      "@": root,
      // Next.js resolves "server-only" to a no-op on the server; tests are server code too.
      "server-only": path.join(root, "tests/support/server-only.ts"),
    },
  },
  test: {
    include: ["tests/**/*.test.ts"],
    environment: "node",
    pool: "forks",
    globalSetup: ["tests/support/global-setup.ts"],
    setupFiles: ["tests/support/setup-env.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // next-auth imports "next/server" without an extension, which Node's ESM loader refuses: Vite resolves it.
    server: { deps: { inline: ["next-auth"] } },
  },
});
