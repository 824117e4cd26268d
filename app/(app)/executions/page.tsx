import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "My Background Executions" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="My Background Executions">
      Your background executions, with live progress and Abort, will be listed here.
    </Placeholder>
  );
}
