"use client";

import Link from "next/link";
import { useEffect, useRef, useState } from "react";

interface InstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: "accepted" | "dismissed" }>;
}

export function UserMenu({
  username,
  displayName,
  roleLabel,
  signOut,
}: {
  username: string;
  displayName: string;
  roleLabel: string;
  signOut: () => Promise<void>;
}) {
  const menu = useRef<HTMLDetailsElement>(null);
  const [installEvent, setInstallEvent] = useState<InstallPromptEvent | null>(null);

  useEffect(() => {
    const offer = (event: Event) => {
      event.preventDefault();
      setInstallEvent(event as InstallPromptEvent);
    };
    const installed = () => setInstallEvent(null);
    window.addEventListener("beforeinstallprompt", offer);
    window.addEventListener("appinstalled", installed);
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
      window.removeEventListener("beforeinstallprompt", offer);
      window.removeEventListener("appinstalled", installed);
      document.removeEventListener("keydown", closeOnEscape);
      document.removeEventListener("click", closeOnOutsideClick);
    };
  }, []);

  async function install() {
    if (!installEvent) return;
    await installEvent.prompt();
    await installEvent.userChoice;
    setInstallEvent(null);
  }

  return (
    <details className="user-menu" ref={menu}>
      <summary aria-label={`User menu for ${displayName}`}>
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
        {installEvent ? (
          <button type="button" role="menuitem" className="menu-item" onClick={install}>
            Install App
          </button>
        ) : null}
        <Link
          role="menuitem"
          className="menu-item"
          href="/settings"
          onClick={() => menu.current?.removeAttribute("open")}
        >
          Settings
        </Link>
        <form action={signOut}>
          <button type="submit" role="menuitem" className="menu-item">
            Sign Out
          </button>
        </form>
      </div>
    </details>
  );
}
