import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Reimbursement" };

export default async function ReimbursementDetailPage({ params }: { params: Promise<{ id: string }> }) {
  await requireUser();
  const { id } = await params;
  if (!/^[1-9]\d{0,9}$/.test(id)) notFound();
  return (
    <Placeholder title={`Reimbursement ${id}`}>
      Amount, Receipt From, Status, Decided On, Decided By and Created of this request will be here.
    </Placeholder>
  );
}
