import { statusLabel, statusTone } from "./format";

/**
 * A state shown with its one label and colour, whatever the page. `aborting`: an abort was asked for
 * and the execution has not stopped yet ("Aborting" instead of "Running").
 */
export function StatusBadge({ status, aborting = false }: { status: string; aborting?: boolean }) {
  const label = aborting && status === "EXECUTING" ? "Aborting" : statusLabel(status);
  return <span className={`status tone-${statusTone(status)}`}>{label}</span>;
}
