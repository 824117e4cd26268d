"use client";

import Link from "next/link";
import { useEffect, useRef, useState, useTransition } from "react";
import { setHideProcessButtonAction } from "@/app/(app)/preferences-actions";
import { InstallApp } from "@/components/pwa/install-app";

export function UserMenu({
  username,
  displayName,
  roleLabel,
  signOut,
  hideProcessButton = false,
}: {
  username: string;
  displayName: string;
  roleLabel: string;
  signOut: () => Promise<void>;
  /** The departments demo's "Hide Process Button" preference. */
  hideProcessButton?: boolean;
}) {
  const [hideProcess, setHideProcess] = useState(hideProcessButton);
  const [savingPreference, startSaving] = useTransition();
  useEffect(() => setHideProcess(hideProcessButton), [hideProcessButton]);

  function toggleHideProcess() {
    const next = !hideProcess;
    setHideProcess(next);
    startSaving(async () => {
      const result = await setHideProcessButtonAction({ hideProcessButton: next });
      setHideProcess(result.ok ? result.hideProcessButton : !next);
    });
  }

  const menu = useRef<HTMLDetailsElement>(null);

  useEffect(() => {
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === "Escape" && menu.current?.open) {
        menu.current.open = false;
        menu.current.querySelector("summary")?.focus();
      }
    };
    const closeOnOutsideClick = (event: MouseEvent) => {
      if (menu.current?.open && !menu.current.contains(event.target as Node)) menu.current.open = false;
    };
    document.addEventListener("keydown", closeOnEscape);
    document.addEventListener("click", closeOnOutsideClick);
    return () => {
      document.removeEventListener("keydown", closeOnEscape);
      document.removeEventListener("click", closeOnOutsideClick);
    };
  }, []);

  return (
    <details className="user-menu" ref={menu}>
      <summary aria-label={`User menu for ${displayName} (${username})`}>
        <span className="avatar" aria-hidden="true">
          {displayName.slice(0, 1).toUpperCase()}
        </span>
        <span className="user-name">{username}</span>
      </summary>
      <div className="menu" role="menu">
        <p className="menu-heading">
          {displayName}
          <span className="muted small">{roleLabel}</span>
        </p>
        <InstallApp className="menu-item" onDone={() => menu.current?.removeAttribute("open")} />
        <Link
          role="menuitem"
          className="menu-item"
          href="/settings"
          onClick={() => menu.current?.removeAttribute("open")}
        >
          Settings
        </Link>
        <button
          type="button"
          role="menuitemcheckbox"
          aria-checked={hideProcess}
          className="menu-item menu-check"
          disabled={savingPreference}
          onClick={toggleHideProcess}
        >
          <span aria-hidden="true" className="menu-check-mark">
            {hideProcess ? "✓" : ""}
          </span>
          Hide Process Button
        </button>
        <form action={signOut}>
          <button type="submit" role="menuitem" className="menu-item">
            Sign Out
          </button>
        </form>
      </div>
    </details>
  );
}
