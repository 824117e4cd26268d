import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireRole } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Push Notifications Queue" };

export default async function Page() {
  await requireRole("admin");
  return (
    <Placeholder title="Push Notifications Queue">
      Notifications waiting to be sent, with attempts, errors, Push Queue and Force Push Queue, will be here.
    </Placeholder>
  );
}
