import type { UserRole } from "@/db/schema/users";
import { hasRole } from "@/lib/auth/roles";

export interface NavItem {
  href: string;
  label: string;
  description: string;
  role: UserRole;
  group: "Push notifications" | "Background processing" | "Administration";
}

/** Every destination of the app, once: the navigation and the home tiles are both built from it. */
export const NAV_ITEMS: NavItem[] = [
  {
    href: "/reimbursements",
    label: "Reimbursements",
    description: "Submit a claim from your phone and follow its status.",
    role: "employee",
    group: "Push notifications",
  },
  {
    href: "/approvals",
    label: "Approvals",
    description: "Approve or reject claims waiting for you; the claimant is notified at once.",
    role: "approver",
    group: "Push notifications",
  },
  {
    href: "/departments",
    label: "Departments",
    description: "Process a department in the background and keep working meanwhile.",
    role: "employee",
    group: "Background processing",
  },
  {
    href: "/processing/status",
    label: "Processing status",
    description: "Live progress of every department being processed.",
    role: "employee",
    group: "Background processing",
  },
  {
    href: "/processing/history",
    label: "Processing history",
    description: "Average running and waiting times of finished runs.",
    role: "employee",
    group: "Background processing",
  },
  {
    href: "/data-load",
    label: "Data load",
    description: "Upload a CSV or ZIP of sales rows and watch it load.",
    role: "employee",
    group: "Background processing",
  },
  {
    href: "/executions",
    label: "My executions",
    description: "Your background executions: progress, status and abort.",
    role: "employee",
    group: "Background processing",
  },
  {
    href: "/admin/push-queue",
    label: "Push queue",
    description: "Notifications waiting to be delivered, retried or failed.",
    role: "admin",
    group: "Administration",
  },
  {
    href: "/admin/subscriptions",
    label: "Subscriptions",
    description: "Every device that opted in to push notifications.",
    role: "admin",
    group: "Administration",
  },
  {
    href: "/admin/users",
    label: "Users",
    description: "Signed-in sessions per user; end them on every device.",
    role: "admin",
    group: "Administration",
  },
  {
    href: "/admin/executions",
    label: "All executions",
    description: "Every background execution, with abort and the concurrency limit.",
    role: "admin",
    group: "Administration",
  },
];

export function navItemsFor(role: UserRole): NavItem[] {
  return NAV_ITEMS.filter((item) => hasRole(role, item.role));
}
