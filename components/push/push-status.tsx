"use client";

import { useEffect, useState } from "react";

/**
 * Whether push is on for this device: the browser holds a subscription the server knows for this user,
 * and notifications are allowed.
 */
export function PushStatus({ knownEndpoints }: { knownEndpoints: string[] }) {
  const [state, setState] = useState<"checking" | "on" | "off" | "unsupported">("checking");
  const known = knownEndpoints.join("\n");
  useEffect(() => {
    let cancelled = false;
    async function check() {
      if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
        return "unsupported" as const;
      }
      const registration = await navigator.serviceWorker.getRegistration("/");
      const subscription = await registration?.pushManager.getSubscription();
      const on =
        Notification.permission === "granted" &&
        subscription != null &&
        known.split("\n").includes(subscription.endpoint);
      return on ? ("on" as const) : ("off" as const);
    }
    check()
      .catch(() => "off" as const)
      .then((result) => {
        if (!cancelled) setState(result);
      });
    return () => {
      cancelled = true;
    };
  }, [known]);
  const text = {
    checking: "Checking this device…",
    on: "On for this device",
    off: "Off for this device",
    unsupported: "Not available in this browser",
  }[state];
  return (
    <span className={`status tone-${state === "on" ? "good" : "waiting"}`} data-testid="push-status">
      {text}
    </span>
  );
}
