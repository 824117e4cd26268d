/** A labelled progress bar; `value` in percent, or null when the total is not known yet. */
export function ProgressBar({ value, label }: { value: number | null; label: string }) {
  const known = value !== null && Number.isFinite(value);
  const percent = known ? Math.max(0, Math.min(100, Math.round(value))) : 0;
  return (
    <div className="progress">
      <div
        className={known ? "progress-track" : "progress-track progress-unknown"}
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={known ? percent : undefined}
      >
        <div className="progress-fill" style={{ width: known ? `${percent}%` : "100%" }} />
      </div>
      <span className="progress-text">{known ? `${percent}%` : "–"}</span>
    </div>
  );
}
