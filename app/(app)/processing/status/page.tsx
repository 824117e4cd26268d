import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Processing Status" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Processing Status">
      Live progress of every department being processed will be here.
    </Placeholder>
  );
}
