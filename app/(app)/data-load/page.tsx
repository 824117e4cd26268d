import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Data Load" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Data Load">
      Upload a CSV or ZIP of sales rows and follow the background load here.
    </Placeholder>
  );
}
