export async function register() {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { startWebServerOrExit } = await import("@/lib/runtime/startup");
  await startWebServerOrExit();
}
