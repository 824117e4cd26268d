import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Processing History" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Processing History">
      Average running time and average wait-to-start time of finished runs will be here.
    </Placeholder>
  );
}
