// SPEC F5: approve → notification shown in Firefox ESR, through its own push stack, offline.
// Run: `npm run bench:firefox` (it starts e2e/firefox/run.mjs --script bench/firefox-latency.ts, so the app,
// the local push service and Firefox share a loopback-only network namespace, as in the Firefox tests).
//
// Each run: bo submits a claim in Firefox; pat (another Firefox context) clicks Approve on /approvals;
// the clock stops when Firefox's notification window for that claim has loaded. Also reported: the part
// until our push service accepted the sender's POST, and the part from handing the message to Firefox
// until the window loaded (Firefox decrypts, wakes our service worker, which shows the notification).
// BENCH_FIREFOX_RUNS (default 20) runs are measured after one warm-up run.
import { loadavg } from "node:os";
import {
  closeAlerts,
  eventually,
  type RecordedAlert,
  recordAlerts,
  recordedAlerts,
  signIn,
  startWorld,
} from "../e2e/firefox/harness";
import { decide, enablePush, submitClaim } from "../e2e/firefox/story";

const runs = Number(process.env.BENCH_FIREFOX_RUNS ?? 20);
const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
};

const world = await startWorld();
try {
  const version = await world.browser.version();
  const bo = await world.browser.newPage();
  await signIn(bo, "bo", "/settings/push");
  await enablePush(world, bo);
  const pat = await (await world.browser.createBrowserContext()).newPage();
  await signIn(pat, "pat", "/approvals");
  await recordAlerts(world);

  const total: number[] = [];
  const toPushService: number[] = [];
  const inFirefox: number[] = [];
  const loadAtStart = loadavg();
  for (let run = 0; run <= runs; run++) {
    const receipt = `Bench Shop ${run} ${Date.now()}`;
    const id = await submitClaim(bo, "10.00", receipt);
    await closeAlerts(world);
    let approvedAt = 0;
    await decide(pat, id, "Approve", () => {
      approvedAt = Date.now();
    });
    const shown = await eventually<RecordedAlert>(
      "Firefox to show the notification",
      async () =>
        (await recordedAlerts(world)).find(
          (alert) => alert.title === "Reimbursement Approved" && alert.text.includes(receipt),
        ),
      30_000,
    );
    const delivery = world.push.deliveries.findLast((d) => d.acceptedAt >= approvedAt);
    if (run === 0) continue; // warm-up: first compile of the pages and the worker's first wake-up
    total.push(shown.shownAt - approvedAt);
    if (delivery) {
      toPushService.push(delivery.acceptedAt - approvedAt);
      if (delivery.sentToBrowserAt) inFirefox.push(shown.shownAt - delivery.sentToBrowserAt);
    }
  }
  const row = (name: string, values: number[]) =>
    `| ${name.padEnd(58)} | ${`p50 ${quantile(values, 0.5).toFixed(0)} ms`.padEnd(11)} | ${`p90 ${quantile(values, 0.9).toFixed(0)} ms`.padEnd(11)} | ${`max ${Math.max(...values).toFixed(0)} ms`.padEnd(11)} |`;
  console.log(
    `\nFirefox ${version} · ${runs} runs (+1 warm-up) · load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(" ")}\n`,
  );
  console.log(
    `| ${"Measure".padEnd(58)} | ${"p50".padEnd(11)} | ${"p90".padEnd(11)} | ${"max".padEnd(11)} |`,
  );
  console.log(`|${"-".repeat(60)}|${"-".repeat(13)}|${"-".repeat(13)}|${"-".repeat(13)}|`);
  console.log(row("approve click → notification window shown (SPEC F5)", total));
  console.log(row("  approve click → push service accepted the sender's POST", toPushService));
  console.log(row("  message handed to Firefox → notification window shown", inFirefox));
  console.log(`\nAll runs (ms): ${total.map((t) => t.toFixed(0)).join(", ")}`);
} finally {
  await world.stop();
}
