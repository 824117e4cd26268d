import type { Metadata } from "next";
import { Placeholder } from "@/components/ui/placeholder";
import { requireUser } from "@/lib/auth/guards";

export const metadata: Metadata = { title: "Push Notifications" };

export default async function Page() {
  await requireUser();
  return (
    <Placeholder title="Push Notifications">
      The switch to enable push notifications on this device and the list of your devices will be here.
    </Placeholder>
  );
}
