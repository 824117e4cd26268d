import type { Metadata } from "next";
import { ExecutionsTable } from "@/components/executions/executions-table";
import { requireRole } from "@/lib/auth/guards";
import { executionStatuses, getConcurrencyUsage, listExecutions } from "@/lib/chains";

export const metadata: Metadata = { title: "All Background Executions" };
export const dynamic = "force-dynamic";

export default async function Page() {
  await requireRole("admin");
  const [executions, usage] = await Promise.all([listExecutions({}), getConcurrencyUsage()]);
  return (
    <section className="stack">
      <h1>All Background Executions</h1>
      <ExecutionsTable scope="all" initial={executions} initialUsage={usage} statuses={executionStatuses} />
    </section>
  );
}
