import "server-only";
import { sql } from "drizzle-orm";
import { type Executor, queryRows } from "@/db/client";

export interface HealthReport {
  /** False when work is due and no worker has shown life within a lease: nothing would run it. */
  ok: boolean;
  workDue: { executions: number; pushMessages: number };
  /** Worker hosts whose last heartbeat is within the lease. */
  liveWorkers: number;
  /** Seconds since the newest heartbeat of any worker, or null when none ever registered. */
  lastHeartbeatSecondsAgo: number | null;
}

/**
 * Honest health: the database answers, and work that is due has a worker to run it. Due work is
 * background executions waiting to start and push messages whose time has come.
 */
export async function getHealth(
  { leaseSeconds }: { leaseSeconds: number },
  db: Executor,
): Promise<HealthReport> {
  const [row] = await queryRows<{
    executions: number;
    push: number;
    live: number;
    last: number | null;
  }>(
    db,
    sql`select
          (select count(*)::int from executions where status = 'ENQUEUED') as executions,
          (select count(*)::int from push_messages where status = 'queued' and next_attempt_at <= now()) as push,
          (select count(*)::int from worker_processes
             where heartbeat_at > now() - make_interval(secs => ${leaseSeconds})) as live,
          (select extract(epoch from now() - max(heartbeat_at))::float8 from worker_processes) as last`,
  );
  const workDue = { executions: row?.executions ?? 0, pushMessages: row?.push ?? 0 };
  const liveWorkers = row?.live ?? 0;
  const due = workDue.executions + workDue.pushMessages > 0;
  return {
    ok: !due || liveWorkers > 0,
    workDue,
    liveWorkers,
    lastHeartbeatSecondsAgo: row?.last == null ? null : Math.round(Number(row.last)),
  };
}
