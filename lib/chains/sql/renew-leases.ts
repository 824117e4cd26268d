import "server-only";
import { sql } from "drizzle-orm";
import { type Database, intArray, queryRows } from "@/db/client";
import { seconds } from "./claim-executions";

/** Extends the leases `workerId` still holds among `ids`; returns the ids it could renew. */
export async function renewExecutionLeases(
  db: Database,
  { workerId, ids, leaseMs }: { workerId: string; ids: number[]; leaseMs: number },
): Promise<number[]> {
  const rows = await queryRows<{ id: number }>(
    db,
    sql`update executions
        set lease_expires_at = clock_timestamp() + make_interval(secs => ${seconds(leaseMs)})
        where lease_owner = ${workerId} and status = 'EXECUTING' and id = any(${intArray(ids)})
        returning id`,
  );
  return rows.map((row) => Number(row.id));
}
