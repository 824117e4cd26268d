"use client";

import { useEffect, useRef, useState } from "react";

interface InstallPromptEvent extends Event {
  prompt(): Promise<void>;
  userChoice: Promise<{ outcome: "accepted" | "dismissed" }>;
}

/** The steps to install the app in browsers that offer no install prompt, by browser. */
export function installSteps(userAgent: string): { browser: string; steps: string[] } {
  const ios = /iPhone|iPad|iPod/.test(userAgent) || (/Macintosh/.test(userAgent) && /Mobile/.test(userAgent));
  if (ios) {
    return {
      browser: "iPhone and iPad",
      steps: [
        "Tap the Share button (the square with an arrow pointing up).",
        "Scroll down and tap “Add to Home Screen”.",
        "Tap “Add”, then open the app from your Home Screen and enable notifications there.",
      ],
    };
  }
  if (/SamsungBrowser/.test(userAgent)) {
    return {
      browser: "Samsung Internet",
      steps: ["Open the menu (☰).", "Tap “Add page to”, then “Home screen”."],
    };
  }
  if (/Firefox/.test(userAgent) && /Android/.test(userAgent)) {
    return {
      browser: "Firefox on Android",
      steps: ["Open the menu (⋮).", "Tap “Install” (or “Add to Home screen”)."],
    };
  }
  if (/Firefox/.test(userAgent)) {
    return {
      browser: "Firefox",
      steps: [
        "Firefox on a computer does not install web apps; notifications still work in this tab.",
        "To install, open this page in Chrome, Edge or Safari and use its install option.",
      ],
    };
  }
  if (/Safari/.test(userAgent) && !/Chrome|Chromium|Edg/.test(userAgent)) {
    return {
      browser: "Safari on Mac",
      steps: ["Open the File menu (or the Share button).", "Choose “Add to Dock”."],
    };
  }
  return {
    browser: "Chrome and Edge",
    steps: [
      "Open the browser menu (⋮ or …).",
      "Choose “Install Approval Notifications” (in Chrome under “Cast, save and share”, in Edge under “Apps”).",
    ],
  };
}

function isStandalone(): boolean {
  return (
    window.matchMedia("(display-mode: standalone)").matches ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true
  );
}

/**
 * "Install App" on every browser: the browser's own prompt where it offers one, otherwise a dialog with
 * that browser's steps. Hidden inside the installed app.
 */
export function InstallApp({ className, onDone }: { className?: string; onDone?: () => void }) {
  const [promptEvent, setPromptEvent] = useState<InstallPromptEvent | null>(null);
  const [installed, setInstalled] = useState(true);
  const [steps, setSteps] = useState<ReturnType<typeof installSteps> | null>(null);
  const dialog = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    setInstalled(isStandalone());
    setSteps(installSteps(navigator.userAgent));
    const offer = (event: Event) => {
      event.preventDefault();
      setPromptEvent(event as InstallPromptEvent);
    };
    const done = () => {
      setPromptEvent(null);
      setInstalled(true);
    };
    window.addEventListener("beforeinstallprompt", offer);
    window.addEventListener("appinstalled", done);
    return () => {
      window.removeEventListener("beforeinstallprompt", offer);
      window.removeEventListener("appinstalled", done);
    };
  }, []);

  if (installed) return null;

  async function install() {
    if (promptEvent) {
      await promptEvent.prompt();
      await promptEvent.userChoice;
      setPromptEvent(null);
      onDone?.();
    } else dialog.current?.showModal();
  }

  return (
    <>
      <button type="button" role="menuitem" className={className} onClick={install}>
        Install App
      </button>
      <dialog ref={dialog} aria-labelledby="install-title" onClose={onDone}>
        <div className="stack">
          <h2 id="install-title">Install the app</h2>
          {steps ? (
            <>
              <p className="muted">{steps.browser}:</p>
              <ol className="install-steps">
                {steps.steps.map((step) => (
                  <li key={step}>{step}</li>
                ))}
              </ol>
            </>
          ) : null}
          <div className="dialog-actions">
            <button type="button" className="button button-primary" onClick={() => dialog.current?.close()}>
              Done
            </button>
          </div>
        </div>
      </dialog>
    </>
  );
}
