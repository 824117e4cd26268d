export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  // Before the first request: sign-in throttling needs each request's real socket address.
  const { stampClientAddresses } = await import("@/lib/http/client-address");
  stampClientAddresses();
  const { startWebServerOrExit } = await import("@/lib/runtime/startup");
  await startWebServerOrExit();
}
