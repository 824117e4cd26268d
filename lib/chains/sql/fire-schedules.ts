import "server-only";
import { sql } from "drizzle-orm";
import { type Database, queryRows } from "@/db/client";
import { runInBackground } from "../background";
import { SYSTEM_USER, titleOf } from "../define";
import { type AnySchedule, latestSlot } from "../schedule";

/**
 * Takes the latest due slot of `schedule`, once across all processes: the schedule's row is locked, the
 * slot compared with the last one taken, and the execution enqueued in the same transaction. Slots missed
 * during downtime collapse into the latest one (at most one catch-up); slots before the schedule was first
 * seen never fire. Returns the execution id, or null when there was nothing to take.
 */
export async function fireSchedule(
  db: Database,
  schedule: AnySchedule,
  now = new Date(),
): Promise<number | null> {
  const slot = latestSlot(schedule.cron, schedule.timezone, now);
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`insert into execution_schedules (name, cron, timezone, chain_name, title)
          values (${schedule.name}, ${schedule.cron}, ${schedule.timezone}, ${schedule.chain.name},
            ${titleOf(schedule.chain, schedule.input)})
          on conflict (name) do update
          set cron = excluded.cron, timezone = excluded.timezone, chain_name = excluded.chain_name,
              title = excluded.title`,
    );
    const [row] = await queryRows<{ lastSlotMs: number | null; createdAtMs: number }>(
      tx,
      sql`select (extract(epoch from last_slot) * 1000)::float8 as "lastSlotMs",
            (extract(epoch from created_at) * 1000)::float8 as "createdAtMs"
          from execution_schedules where name = ${schedule.name} for update`,
    );
    if (!slot || !row) return null;
    // A slot fires when it is after the last one taken (or, the first time, not before the schedule existed).
    const taken =
      row.lastSlotMs === null ? slot.getTime() < row.createdAtMs : slot.getTime() <= row.lastSlotMs;
    if (taken) return null;
    const id = await runInBackground(
      schedule.chain,
      schedule.input,
      { user: SYSTEM_USER, session: `schedule:${schedule.name}:${slot.toISOString()}` },
      tx,
    );
    await tx.execute(
      sql`update execution_schedules set last_slot = ${slot.toISOString()}::timestamptz, last_execution_id = ${id}
          where name = ${schedule.name}`,
    );
    return id;
  });
}
