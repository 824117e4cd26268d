import Link from "next/link";
import type { ReactNode } from "react";
import { signOutAction } from "@/app/signin/actions";
import type { CurrentUser } from "@/lib/auth/guards";
import { roleLabels } from "@/lib/auth/roles";
import { navGroupsFor } from "@/lib/navigation";
import { NavLinks } from "./nav-links";
import { UserMenu } from "./user-menu";

export function AppShell({ user, children }: { user: CurrentUser; children: ReactNode }) {
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/" className="brand">
          <span className="brand-mark" aria-hidden="true">
            ✓
          </span>
          <span>Approval Notifications</span>
        </Link>
        <UserMenu
          username={user.username}
          displayName={user.displayName}
          roleLabel={roleLabels[user.role]}
          signOut={signOutAction}
          hideProcessButton={user.preferences.hideProcessButton === true}
        />
      </header>
      <NavLinks groups={navGroupsFor(user.role)} />
      <main className="content" id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
