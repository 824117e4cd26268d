import type { Execution } from "@/db/schema";

/** Largest number of executions whose [started, finished] intervals overlap at one instant. */
export function maxOverlap(rows: Execution[]): number {
  const events = rows.flatMap((r) => [
    { at: r.startedAt!.getTime(), delta: 1 },
    { at: r.finishedAt!.getTime(), delta: -1 },
  ]);
  events.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let current = 0;
  let max = 0;
  for (const event of events) {
    current += event.delta;
    max = Math.max(max, current);
  }
  return max;
}
