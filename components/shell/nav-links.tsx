"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useRef } from "react";
import type { NavGroup, NavGroupView } from "@/lib/navigation";

/** The destination a path belongs to: the longest matching prefix wins (/settings/push over /settings). */
function currentHref(pathname: string, hrefs: string[]): string | null {
  let best: string | null = null;
  for (const href of hrefs) {
    const matches = pathname === href || pathname.startsWith(`${href}/`);
    if (matches && (!best || href.length > best.length)) best = href;
  }
  return best;
}

const ICONS: Record<NavGroup | "Home", string> = {
  Home: "M3 11l9-7 9 7v9a1 1 0 0 1-1 1h-5v-6h-6v6H4a1 1 0 0 1-1-1z",
  Reimbursements: "M4 4h16v16l-3-2-3 2-2-2-2 2-3-2-3 2zM8 9h8M8 13h6",
  Approvals: "M4 12l5 5L20 6",
  Background: "M4 12a8 8 0 0 1 14-5.3M20 12a8 8 0 0 1-14 5.3M18 3v4h-4M6 21v-4h4",
  Admin: "M12 3l8 3v6c0 5-3.5 8-8 9-4.5-1-8-4-8-9V6z",
  Settings:
    "M12 9a3 3 0 1 0 0 6 3 3 0 0 0 0-6zM19 12l2-1-1-3-2 .3-1.3-1.3.3-2-3-1-1 2h-2l-1-2-3 1 .3 2L6 7.3 4 7 3 10l2 1v2l-2 1 1 3 2-.3 1.3 1.3-.3 2 3 1 1-2h2l1 2 3-1-.3-2 1.3-1.3 2 .3 1-3-2-1z",
};

/**
 * Where a long tab label may break on a phone's tab bar (two lines instead of "Reimbur…"). `<wbr>` adds no
 * text, so the link's accessible name stays the group's name.
 */
const LABEL_BREAKS: Partial<Record<NavGroup, [string, string]>> = {
  Reimbursements: ["Reimburse", "ments"],
  Background: ["Back", "ground"],
};

function TabLabel({ name }: { name: NavGroup }) {
  const parts = LABEL_BREAKS[name];
  if (!parts) return <span>{name}</span>;
  return (
    <span>
      {parts[0]}
      <wbr />
      {parts[1]}
    </span>
  );
}

function Icon({ name }: { name: NavGroup | "Home" }) {
  return (
    <svg className="nav-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={ICONS[name]} />
    </svg>
  );
}

/**
 * Grouped navigation: one tab per group (a bottom tab bar on phones), and the current group's pages as a
 * second row, so every page is one or two taps away and the current one is always in view.
 */
export function NavLinks({ groups }: { groups: NavGroupView[] }) {
  const pathname = usePathname();
  const current = currentHref(
    pathname,
    groups.flatMap((group) => group.items.map((item) => item.href)),
  );
  const currentGroup = groups.find((group) => group.items.some((item) => item.href === current));
  const subnavList = useRef<HTMLUListElement>(null);
  // On a phone the group's pages are one row that scrolls sideways: bring the current one into view
  // (centred, by scrolling the row only, never the page).
  useEffect(() => {
    const list = subnavList.current;
    const link = [...(list?.querySelectorAll("a") ?? [])].find((a) => a.getAttribute("href") === current);
    if (!list || !link || list.scrollWidth <= list.clientWidth) return;
    const row = list.getBoundingClientRect();
    const box = link.getBoundingClientRect();
    list.scrollLeft += box.left - row.left - (row.width - box.width) / 2;
  }, [current]);
  return (
    <>
      <nav className="nav" aria-label="Main">
        <ul>
          <li>
            <Link href="/" aria-current={pathname === "/" ? "page" : undefined}>
              <Icon name="Home" />
              <span>Home</span>
            </Link>
          </li>
          {groups.map((group) => {
            const active = group === currentGroup;
            return (
              <li key={group.name}>
                <Link
                  href={group.href}
                  aria-current={active ? (group.items.length === 1 ? "page" : "true") : undefined}
                >
                  <Icon name={group.name} />
                  <TabLabel name={group.name} />
                </Link>
              </li>
            );
          })}
        </ul>
      </nav>
      {currentGroup && currentGroup.items.length > 1 ? (
        <nav className="subnav" aria-label={currentGroup.name}>
          <ul ref={subnavList}>
            {currentGroup.items.map((item) => (
              <li key={item.href}>
                <Link href={item.href} aria-current={item.href === current ? "page" : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      ) : null}
    </>
  );
}
