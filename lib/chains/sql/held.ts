import { sql } from "drizzle-orm";

/** The lease a running attempt holds: who runs which attempt of which execution. */
export interface Lease {
  id: number;
  workerId: string;
  attempt: number;
}

/**
 * Fencing: every write of a running execution names its lease owner and attempt, so a worker whose lease
 * lapsed (and whose execution another worker took over) changes nothing any more.
 */
export const heldBy = (lease: Lease) =>
  sql`id = ${lease.id} and lease_owner = ${lease.workerId} and attempt = ${lease.attempt} and status = 'EXECUTING'`;

/** The same for a statement over many leases: row `e` of executions is held by input row `i`'s lease. */
export const heldByInput = sql`e.id = i.id and e.lease_owner = i.worker_id and e.attempt = i.attempt
  and e.status = 'EXECUTING'`;
