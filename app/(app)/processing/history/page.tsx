import type { Metadata } from "next";
import { formatDuration } from "@/components/departments/duration";
import { RunsChart } from "@/components/departments/runs-chart";
import { requireUser } from "@/lib/auth/guards";
import { getProcessingHistory } from "@/lib/departments/queries";

export const metadata: Metadata = { title: "Processing History" };
export const dynamic = "force-dynamic";

export default async function Page() {
  await requireUser();
  const history = await getProcessingHistory();
  return (
    <section className="stack">
      <h1>Processing History</h1>
      <p className="muted">
        From the department processing runs that finished successfully ({history.runs}{" "}
        {history.runs === 1 ? "run" : "runs"}).
      </p>
      <dl className="stat-tiles">
        <div className="card stat">
          <dt className="stat-label">Average running time</dt>
          <dd className="stat-value" data-testid="average-running">
            {formatDuration(history.averageRunningSeconds)}
          </dd>
        </div>
        <div className="card stat">
          <dt className="stat-label">Average wait to start</dt>
          <dd className="stat-value" data-testid="average-wait">
            {formatDuration(history.averageWaitSeconds)}
          </dd>
        </div>
      </dl>
      {history.recent.length > 0 ? (
        <div className="card stack">
          <h2>Recent runs</h2>
          <RunsChart runs={history.recent} />
        </div>
      ) : (
        <p className="card">No department has finished processing yet.</p>
      )}
    </section>
  );
}
