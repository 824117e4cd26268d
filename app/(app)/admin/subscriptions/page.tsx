import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireRole } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Subscriptions" };

export default async function Page() {
  await requireRole("admin");
  return (
    <Placeholder title="Subscriptions">
      Every device subscribed to push notifications (user, device, endpoint host, created, last success) will
      be here.
    </Placeholder>
  );
}
