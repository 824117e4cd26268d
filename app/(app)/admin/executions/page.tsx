import type { Metadata } from "next";
import Link from "next/link";
import {
  AbortExecutions,
  DeadLetters,
  ExecutionLimitsForm,
} from "@/components/executions/execution-operations";
import { ExecutionsTable } from "@/components/executions/executions-table";
import { formatDateTime, statusLabel } from "@/components/ui/format";
import { requireRole } from "@/lib/auth/guards";
import {
  executionStatuses,
  getConcurrencyUsage,
  getExecutionLimits,
  listExecutions,
  listSchedules,
} from "@/lib/chains";

export const metadata: Metadata = { title: "All Background Executions" };
export const dynamic = "force-dynamic";

export default async function Page() {
  await requireRole("admin");
  const [executions, usage, schedules, limits, failed] = await Promise.all([
    listExecutions({}),
    getConcurrencyUsage(),
    listSchedules(),
    getExecutionLimits(),
    listExecutions({ status: "FAILED", limit: 50 }),
  ]);
  return (
    <section className="stack">
      <h1>All Background Executions</h1>
      <ExecutionsTable scope="all" initial={executions} initialUsage={usage} statuses={executionStatuses} />
      <ExecutionLimitsForm app={limits.app} perUser={limits.perUser} chains={limits.chains} />
      <AbortExecutions chains={limits.chains} />
      <DeadLetters
        failed={failed.map(({ id, title, chainName, username, error, finishedAt, attemptLog }) => ({
          id,
          title,
          chainName,
          username,
          error,
          finishedAt,
          attemptLog,
        }))}
      />
      <h2>Schedules</h2>
      {schedules.length === 0 ? (
        <p className="muted">No schedules yet: a worker records each declared schedule at its first check.</p>
      ) : (
        <div className="data-table">
          <div className="table-scroll">
            <table>
              <caption className="visually-hidden">Schedules</caption>
              <thead>
                <tr>
                  <th scope="col">Schedule</th>
                  <th scope="col">Cron</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Next run</th>
                </tr>
              </thead>
              <tbody>
                {schedules.map((schedule) => (
                  <tr key={schedule.name}>
                    <td>
                      <span title={schedule.name}>{schedule.title}</span>
                    </td>
                    <td>
                      <code>{schedule.cron}</code> ({schedule.timezone})
                    </td>
                    <td>
                      {schedule.lastSlot ? formatDateTime(schedule.lastSlot) : "—"}
                      {schedule.lastExecutionId ? (
                        <>
                          {" "}
                          ·{" "}
                          <Link href={`/executions/${schedule.lastExecutionId}`}>
                            {schedule.lastStatus ? statusLabel(schedule.lastStatus) : "Purged"}
                          </Link>
                        </>
                      ) : null}
                    </td>
                    <td>{schedule.nextSlot ? formatDateTime(schedule.nextSlot) : "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}
