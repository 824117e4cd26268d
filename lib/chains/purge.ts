import { sql } from "drizzle-orm";
import { queryRows } from "@/db/client";
import { defineChain } from "./define";
import { defineSchedule } from "./schedule";

/** Finished executions (and their files) are kept this long, then purged by the schedule below. */
export const RETENTION_MS = 14 * 24 * 60 * 60 * 1000;
const BATCH = 1_000;

/**
 * Housekeeping as a chain of its own, outside the claim path: deletes finished executions older than the
 * retention (and expired live-status watches) in batches of 1,000, each its own short statement, with progress.
 */
export const purgeChain = defineChain<{ retentionMs: number; deleted?: number }>({
  name: "system.purge-executions",
  title: "Purge finished executions",
  steps: [
    {
      name: "Delete in batches",
      async run(ctx) {
        let deleted = 0;
        for (;;) {
          ctx.throwIfAborted();
          const rows = await queryRows<{ id: number }>(
            ctx.db,
            sql`delete from executions where id in (
                  select id from executions
                  where status in ('SUCCESS', 'FAILED', 'ABORTED')
                    and finished_at < clock_timestamp() - make_interval(secs => ${ctx.state.retentionMs / 1000})
                  order by id limit ${BATCH})
                returning id`,
          );
          deleted += rows.length;
          ctx.setStatus(`${deleted} executions deleted`);
          if (rows.length < BATCH) break;
        }
        await ctx.db.execute(sql`delete from execution_watchers where expires_at < clock_timestamp()`);
        ctx.state.deleted = deleted;
      },
    },
  ],
});

/** Every ten minutes. */
export const purgeSchedule = defineSchedule({
  name: "system.purge-executions",
  cron: "*/10 * * * *",
  chain: purgeChain,
  input: { retentionMs: RETENTION_MS },
});
