import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Manage Reimbursements" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Manage Reimbursements">
      The New Reimbursement form (Amount, Receipt From) and your Reimbursement Request History will be here.
    </Placeholder>
  );
}
