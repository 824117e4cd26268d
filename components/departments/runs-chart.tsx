import { formatDuration } from "./duration";

interface Run {
  executionId: number;
  username: string;
  deptno: number;
  waitSeconds: number;
  runningSeconds: number;
}

/** Bars of the recent runs, oldest first: wait to start (light), then running time (dark). */
export function RunsChart({ runs }: { runs: Run[] }) {
  const max = Math.max(1, ...runs.map((run) => run.waitSeconds + run.runningSeconds));
  const percent = (seconds: number) => `${Math.max(0, (seconds / max) * 100).toFixed(2)}%`;
  return (
    <figure className="runs-chart">
      <ol>
        {runs.map((run) => (
          <li key={run.executionId}>
            <span className="runs-chart-label">
              {run.deptno} · {run.username.toUpperCase()}
            </span>
            <span className="runs-chart-track">
              <span className="bar-wait" style={{ width: percent(run.waitSeconds) }} />
              <span className="bar-running" style={{ width: percent(run.runningSeconds) }} />
            </span>
            <span className="runs-chart-value">
              {formatDuration(run.runningSeconds)}
              <span className="visually-hidden">
                {" "}
                running, after waiting {formatDuration(run.waitSeconds)}
              </span>
            </span>
          </li>
        ))}
      </ol>
      <figcaption className="muted small">
        <span className="legend bar-wait" aria-hidden="true" /> wait to start{" "}
        <span className="legend bar-running" aria-hidden="true" /> running time
      </figcaption>
    </figure>
  );
}
