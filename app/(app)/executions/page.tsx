import type { Metadata } from "next";
import { ExecutionsTable } from "@/components/executions/executions-table";
import { requireUser } from "@/lib/auth/guards";
import { executionStatuses, listExecutions } from "@/lib/chains";

export const metadata: Metadata = { title: "My Background Executions" };
export const dynamic = "force-dynamic";

export default async function Page() {
  const user = await requireUser();
  const executions = await listExecutions({ userId: user.id });
  return (
    <section className="stack">
      <h1>My Background Executions</h1>
      <p className="muted">
        Work you sent to the background: it keeps running while you do something else. This list updates by
        itself.
      </p>
      <ExecutionsTable scope="mine" initial={executions} statuses={executionStatuses} />
    </section>
  );
}
