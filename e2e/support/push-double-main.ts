// The push service double as its own process (Playwright's webServer, `npm run bench`).
import { PushDouble } from "./push-double";

const port = Number(process.env.PUSH_DOUBLE_PORT ?? 4443);
const controlPort = Number(process.env.PUSH_DOUBLE_CONTROL_PORT ?? port + 1);
// PUSH_DOUBLE_COUNTING=1 (npm run bench): verify and decrypt as always, but keep counters instead of payloads;
// with PUSH_DOUBLE_DECRYPT=later, decrypt each accepted body after the timed part instead of before the 201.
const counting = process.env.PUSH_DOUBLE_COUNTING === "1";
const decryptLater = process.env.PUSH_DOUBLE_DECRYPT === "later";
const double = await PushDouble.start({ port, controlPort, counting, decryptLater });
console.log(`[push-double] ${double.origin} (control http://127.0.0.1:${controlPort})`);
const stop = async () => {
  await double.close();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
