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
