/**
 * Content-Security-Policy of the files proxy.ts does not see (build chunks, icons): nothing there may run
 * inline script. Pages, routes and the service worker get a per-request nonce policy from proxy.ts.
 */
const staticContentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "connect-src 'self'",
  "worker-src 'self'",
].join("; ");

export const securityHeaders = [
  { key: "X-Content-Type-Options", value: "nosniff" },
  { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=()" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native/wasm database drivers are loaded by Node at run time, not bundled.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "postgres",
    "web-push",
    "bcryptjs",
    "rate-limiter-flexible",
  ],
  experimental: { authInterrupts: true },
  async headers() {
    return [
      { source: "/:path*", headers: securityHeaders },
      {
        source: "/:dir(_next|icons)/:path*",
        headers: [{ key: "Content-Security-Policy", value: staticContentSecurityPolicy }],
      },
      {
        source: "/favicon.ico",
        headers: [{ key: "Content-Security-Policy", value: staticContentSecurityPolicy }],
      },
      {
        // The service worker must never be served stale: a fix has to reach every device at once.
        source: "/:file(sw|sw-logic).js",
        headers: [
          { key: "Cache-Control", value: "no-cache, no-store, must-revalidate" },
          { key: "Content-Type", value: "application/javascript; charset=utf-8" },
          { key: "Service-Worker-Allowed", value: "/" },
        ],
      },
    ];
  },
};

export default nextConfig;
