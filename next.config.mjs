/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // Native/wasm database drivers are loaded by Node at run time, not bundled.
  serverExternalPackages: ["@electric-sql/pglite", "postgres", "web-push", "bcryptjs"],
  experimental: { authInterrupts: true },
};

export default nextConfig;
