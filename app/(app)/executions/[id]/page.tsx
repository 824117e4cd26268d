import type { Metadata } from "next";
import Link from "next/link";
import { notFound } from "next/navigation";
import { ExecutionStatus } from "@/components/executions/execution-status";
import { formatDateTime } from "@/components/ui/format";
import { requireUser } from "@/lib/auth/guards";
import { getExecution } from "@/lib/chains";
import { executionViewer } from "@/lib/users/execution-viewer";

export const metadata: Metadata = { title: "Background Execution" };
export const dynamic = "force-dynamic";

/** One execution, live, with its attempts history: its owner and administrators only (others: 404). */
export default async function ExecutionPage({ params }: { params: Promise<{ id: string }> }) {
  const user = await requireUser();
  const { id } = await params;
  if (!/^[1-9]\d{0,9}$/.test(id) || Number(id) > 2_147_483_647) notFound();
  const execution = await getExecution(Number(id), executionViewer(user));
  if (!execution) notFound();
  return (
    <section className="stack">
      <h1>{execution.title || execution.chainName}</h1>
      <p className="muted">
        Execution {execution.id} · by {execution.username.toUpperCase()} · created{" "}
        {formatDateTime(execution.createdAt)}
      </p>
      <ExecutionStatus id={execution.id} initial={execution} showTitle={false} />
      <h2>Attempts</h2>
      {execution.attemptLog.length === 0 ? (
        <p className="muted">No failed attempts.</p>
      ) : (
        <ol aria-label="Failed attempts">
          {execution.attemptLog.map((entry) => (
            <li key={entry.attempt}>
              Attempt {entry.attempt}
              {entry.step ? ` (${entry.step})` : ""}: {entry.error} · {formatDateTime(entry.at)}
            </li>
          ))}
        </ol>
      )}
      <p>
        <Link href="/executions">Back to my background executions</Link>
      </p>
    </section>
  );
}
