import "server-only";
import { sql } from "drizzle-orm";
import { type Executor, getDb, queryRows } from "@/db/client";
import { nextSlot } from "./schedule";
import type { ExecutionStatus } from "./statuses";

/** A schedule as the admin page shows it: its last slot taken (and that execution) and its next slot. */
export interface ScheduleView {
  name: string;
  title: string;
  cron: string;
  timezone: string;
  lastSlot: string | null;
  lastExecutionId: number | null;
  lastStatus: ExecutionStatus | null;
  nextSlot: string | null;
}

/** Every schedule a worker has seen (declared in code, recorded at its first tick), by name. */
export async function listSchedules(db: Executor = getDb(), now = new Date()): Promise<ScheduleView[]> {
  const rows = await queryRows<Omit<ScheduleView, "nextSlot">>(
    db,
    sql`select s.name, s.title, s.cron, s.timezone, s.last_slot as "lastSlot",
          s.last_execution_id as "lastExecutionId", e.status::text as "lastStatus"
        from execution_schedules s left join executions e on e.id = s.last_execution_id
        order by s.name`,
  );
  return rows.map((row) => {
    let next: Date | null = null;
    try {
      next = nextSlot(row.cron, row.timezone, now);
    } catch {
      next = null; // a schedule whose declaration changed to something unreadable: no next slot shown
    }
    return {
      ...row,
      lastSlot: row.lastSlot ? new Date(row.lastSlot).toISOString() : null,
      nextSlot: next ? next.toISOString() : null,
    };
  });
}
