import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireRole } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "All Background Executions" };

export default async function Page() {
  await requireRole("admin");
  return (
    <Placeholder title="All Background Executions">
      Every background execution, filterable by status, with Abort and the concurrency limit, will be here.
    </Placeholder>
  );
}
