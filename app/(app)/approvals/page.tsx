import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireRole } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Approval Queue" };

export default async function Page() {
  await requireRole("approver");
  return (
    <Placeholder title="Approval Queue">
      Claims waiting for a decision will be listed here, with search, due dates and Approve / Reject.
    </Placeholder>
  );
}
