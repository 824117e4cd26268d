"use client";

import { useRouter } from "next/navigation";
import { useEffect, useRef, useTransition } from "react";

/**
 * Keeps a server-rendered page showing shared state current: re-renders it (router.refresh(), which keeps
 * client state and focus) every `intervalMs` while the tab is visible, and at once when it becomes
 * visible again. A refresh starts only when the previous one has finished, so a slow server is never
 * flooded and the user's own actions are not queued behind a pile of refreshes.
 */
/** Server actions in flight on this page: live refreshes wait for them (a refresh racing an action can
 * leave the action's result undelivered). */
let actionsInFlight = 0;

/** Holds live refreshes while `pending` is true (a form or button whose server action is running). */
export function useHoldLiveRefresh(pending: boolean): void {
  useEffect(() => {
    if (!pending) return;
    actionsInFlight += 1;
    return () => {
      actionsInFlight -= 1;
    };
  }, [pending]);
}

export function useLiveRefresh(intervalMs = 1_500): void {
  const router = useRouter();
  const [refreshing, startTransition] = useTransition();
  const busy = useRef(false);
  busy.current = refreshing;
  useEffect(() => {
    const refresh = () => {
      if (busy.current || actionsInFlight > 0 || document.visibilityState !== "visible") return;
      startTransition(() => router.refresh());
    };
    const timer = setInterval(refresh, intervalMs);
    const onVisibility = () => {
      if (document.visibilityState === "visible") refresh();
    };
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [router, intervalMs]);
}

/** Drop-in for server components: renders nothing, keeps the page live. */
export function LiveRefresh({ intervalMs }: { intervalMs?: number }) {
  useLiveRefresh(intervalMs);
  return null;
}
