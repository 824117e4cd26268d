import type { UserRole } from "@/db/schema/users";
import { hasRole } from "@/lib/auth/roles";

export interface NavItem {
  href: string;
  label: string;
  description: string;
  role: UserRole;
  group: NavGroup;
}

/** The navigation's groups, in order: one tab each (a bottom tab bar on phones). */
export const NAV_GROUPS = ["Reimbursements", "Approvals", "Background", "Admin", "Settings"] as const;
export type NavGroup = (typeof NAV_GROUPS)[number];

/** Every destination of the app, once: the navigation and the home tiles are both built from it. */
export const NAV_ITEMS: NavItem[] = [
  {
    href: "/reimbursements",
    label: "Reimbursements",
    description: "Submit a claim from your phone and follow its status.",
    role: "employee",
    group: "Reimbursements",
  },
  {
    href: "/approvals",
    label: "Approvals",
    description: "Approve or reject claims waiting for you; the claimant is notified at once.",
    role: "approver",
    group: "Approvals",
  },
  {
    href: "/departments",
    label: "Departments",
    description: "Process a department in the background and keep working meanwhile.",
    role: "employee",
    group: "Background",
  },
  {
    href: "/processing/status",
    label: "Processing status",
    description: "Live progress of every department being processed.",
    role: "employee",
    group: "Background",
  },
  {
    href: "/processing/history",
    label: "Processing history",
    description: "Average running and waiting times of finished runs.",
    role: "employee",
    group: "Background",
  },
  {
    href: "/data-load",
    label: "Data load",
    description: "Upload a CSV or ZIP of sales rows and watch it load.",
    role: "employee",
    group: "Background",
  },
  {
    href: "/executions",
    label: "My executions",
    description: "Your background executions: progress, status and abort.",
    role: "employee",
    group: "Background",
  },
  {
    href: "/admin/push-queue",
    label: "Push queue",
    description: "Notifications waiting to be delivered, retried or failed.",
    role: "admin",
    group: "Admin",
  },
  {
    href: "/admin/subscriptions",
    label: "Subscriptions",
    description: "Every device that opted in to push notifications.",
    role: "admin",
    group: "Admin",
  },
  {
    href: "/admin/users",
    label: "Users",
    description: "Signed-in sessions per user; end them on every device.",
    role: "admin",
    group: "Admin",
  },
  {
    href: "/admin/executions",
    label: "All executions",
    description: "Every background execution, with abort and the concurrency limit.",
    role: "admin",
    group: "Admin",
  },
  {
    href: "/settings",
    label: "Settings",
    description: "Your settings: push notifications on this device.",
    role: "employee",
    group: "Settings",
  },
  {
    href: "/settings/push",
    label: "Push notifications",
    description: "Turn notifications on or off for this device and see your devices.",
    role: "employee",
    group: "Settings",
  },
];

export function navItemsFor(role: UserRole): NavItem[] {
  return NAV_ITEMS.filter((item) => hasRole(role, item.role));
}

export interface NavGroupView {
  name: NavGroup;
  /** Where the group's tab leads: its first destination. */
  href: string;
  items: { href: string; label: string }[];
}

/** The groups a role sees, each with its destinations (serialisable, for the client navigation). */
export function navGroupsFor(role: UserRole): NavGroupView[] {
  const items = navItemsFor(role);
  return NAV_GROUPS.flatMap((name) => {
    const inGroup = items.filter((item) => item.group === name).map(({ href, label }) => ({ href, label }));
    const first = inGroup[0];
    return first ? [{ name, href: first.href, items: inGroup }] : [];
  });
}
