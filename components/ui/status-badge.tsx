import { statusLabel, statusTone } from "./format";

/** A state shown with its one label and colour, whatever the page. */
export function StatusBadge({ status }: { status: string }) {
  return <span className={`status tone-${statusTone(status)}`}>{statusLabel(status)}</span>;
}
