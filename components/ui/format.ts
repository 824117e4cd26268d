/**
 * One vocabulary and one date format for the whole app. Every state is shown with the label below,
 * whatever the page; dates are Intl-formatted in the reader's own locale and time zone.
 */

/** Background executions (the SPEC's codes) and the data loads that follow them. */
const EXECUTION_LABELS: Record<string, string> = {
  ENQUEUED: "Waiting",
  SCHEDULED: "Scheduled",
  EXECUTING: "Running",
  SUCCESS: "Succeeded",
  FAILED: "Failed",
  ABORTED: "Aborted",
};

/** Reimbursement claims: the talk's own words, kept as they are. */
const CLAIM_LABELS: Record<string, string> = {
  REVIEWING: "REVIEWING",
  APPROVED: "APPROVED",
  REJECTED: "REJECTED",
};

/** Push notifications in the queue. */
const PUSH_LABELS: Record<string, string> = {
  queued: "Waiting",
  sending: "Sending",
  sent: "Sent",
  failed: "Failed",
};

/** The label of a state code, the same on every page. */
export function statusLabel(status: string): string {
  return EXECUTION_LABELS[status] ?? CLAIM_LABELS[status] ?? PUSH_LABELS[status] ?? status;
}

/** The tone of a state, for its badge colour. */
export function statusTone(status: string): "waiting" | "running" | "good" | "bad" | "review" {
  switch (status) {
    case "EXECUTING":
    case "sending":
      return "running";
    case "SUCCESS":
    case "APPROVED":
    case "sent":
      return "good";
    case "FAILED":
    case "ABORTED":
    case "REJECTED":
    case "failed":
      return "bad";
    case "REVIEWING":
      return "review";
    default:
      return "waiting";
  }
}

const numberFormat = new Intl.NumberFormat("en-US");

/** "1 row", "10,000 rows": a count with its noun, singular or plural. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${numberFormat.format(count)} ${count === 1 ? singular : pluralForm}`;
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeFormat = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

function toDate(value: string | Date | null | undefined): Date | null {
  if (!value) return null;
  const date = typeof value === "string" ? new Date(value) : value;
  return Number.isNaN(date.getTime()) ? null : date;
}

/** Dates as people read them, in their own time zone and locale: "26 Nov 2026, 14:05". */
export function formatDateTime(value: string | Date | null | undefined): string {
  const date = toDate(value);
  return date ? dateTimeFormat.format(date) : "—";
}

/**
 * Relative where it helps: "just now", "5 minutes ago", "in 3 minutes", "today 14:05" within a day;
 * the full date beyond. `past`: a time that has happened (created, started, last change) — one slightly
 * ahead of this clock (the server's clock runs ahead of the browser's) is "just now", not "in a moment".
 */
export function formatWhen(
  value: string | Date | null | undefined,
  now = Date.now(),
  { past = false }: { past?: boolean } = {},
): string {
  const date = toDate(value);
  if (!date) return "—";
  const ahead = Math.round((date.getTime() - now) / 1000);
  const seconds = past && ahead > 0 && ahead < 45 ? 0 : ahead;
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? "just now" : "in a moment";
  if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), "minute");
  if (abs < 6 * 3600) return relativeFormat.format(Math.round(seconds / 3600), "hour");
  if (new Date(now).toDateString() === date.toDateString()) return `today ${timeFormat.format(date)}`;
  return dateTimeFormat.format(date);
}
