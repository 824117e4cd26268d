import type { Metadata } from "next";
import { ApprovalQueue } from "@/components/reimbursements/approval-queue";
import { requireRole } from "@/lib/auth/guards";
import { listOpenTasks, QUEUE_LIMIT } from "@/lib/reimbursements/queries";
import { approvalFiltersSchema } from "@/lib/reimbursements/schemas";

export const metadata: Metadata = { title: "Approval Queue" };

export default async function ApprovalsPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requireRole("approver");
  const raw = await searchParams;
  const first = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);
  const filters = approvalFiltersSchema.parse({
    q: first(raw.q),
    expired: first(raw.expired),
    sort: first(raw.sort),
  });
  const highlighted = Number(first(raw.task)) || null;
  const tasks = await listOpenTasks({
    search: filters.q,
    showExpired: filters.expired === "1",
    newestDueFirst: filters.sort === "-due",
  });
  return (
    <section className="stack">
      <h1>Approval Queue</h1>
      <search aria-label="Filter the queue">
        <form className="card filters" method="get">
          <label className="field">
            <span>Search</span>
            <input
              type="search"
              name="q"
              defaultValue={filters.q}
              maxLength={100}
              placeholder="Pharmacy, BO, 59.95…"
            />
          </label>
          <label className="field">
            <span>Sort by due date</span>
            <select name="sort" defaultValue={filters.sort}>
              <option value="due">Soonest first</option>
              <option value="-due">Latest first</option>
            </select>
          </label>
          <label className="checkbox">
            <input type="checkbox" name="expired" value="1" defaultChecked={filters.expired === "1"} />
            Show expired tasks
          </label>
          <button type="submit" className="button">
            Apply
          </button>
        </form>
      </search>
      <ApprovalQueue
        currentUserId={user.id}
        highlighted={highlighted}
        tasks={tasks.map((task) => ({
          ...task,
          dueAt: task.dueAt.toISOString(),
          createdAt: task.createdAt.toISOString(),
        }))}
      />
      {tasks.length === QUEUE_LIMIT ? (
        <p className="muted small">Showing the first {QUEUE_LIMIT} tasks; search to narrow the list.</p>
      ) : null}
    </section>
  );
}
