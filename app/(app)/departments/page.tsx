import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Departments" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Departments">
      The four departments, an edit dialog and the Process button that runs in the background will be here.
    </Placeholder>
  );
}
