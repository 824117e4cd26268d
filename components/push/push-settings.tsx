"use client";

import { useRouter } from "next/navigation";
import { useCallback, useEffect, useState, useTransition } from "react";
import { removeDeviceAction, sendTestNotificationAction } from "@/app/(app)/settings/push/actions";
import { formatDateTime } from "@/components/ui/format";
import { Notice } from "@/components/ui/notice";
import { errorMessage } from "@/lib/error-message";

export interface DeviceRow {
  id: number;
  endpoint: string;
  deviceLabel: string;
  createdAt: string;
  lastSuccessAt: string | null;
  lastFailureAt: string | null;
  lastError: string | null;
}

type ToggleState = "checking" | "unsupported" | "off" | "on";

const FAILED = "This device failed to enable push notifications.";

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4))
    .replace(/-/g, "+")
    .replace(/_/g, "/");
  const raw = atob(base64);
  const bytes = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function sameKey(subscription: PushSubscription, publicKey: string): boolean {
  const current = subscription.options?.applicationServerKey;
  if (!current) return true;
  const expected = keyBytes(publicKey);
  const actual = new Uint8Array(current);
  return actual.length === expected.length && actual.every((byte, index) => byte === expected[index]);
}

async function registration(): Promise<ServiceWorkerRegistration> {
  await navigator.serviceWorker.register("/sw.js", { scope: "/", updateViaCache: "none" });
  return navigator.serviceWorker.ready;
}

/** How long the browser may take to subscribe before the user is told (some never answer). */
export const SUBSCRIBE_TIMEOUT_MS = 15_000;

class PlainError extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new PlainError(message)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** The browser's own error texts ("Registration failed - permission denied") as sentences with a way out. */
export function explainPushError(cause: unknown): string {
  if (cause instanceof PlainError) return cause.message;
  const name = cause instanceof DOMException || cause instanceof Error ? cause.name : "";
  const text = errorMessage(cause);
  if (name === "NotAllowedError" || /permission denied|not allowed/i.test(text)) {
    return "The browser refused to subscribe this site. Private or incognito windows usually cannot receive push notifications: open the app in a normal window. Otherwise allow notifications for this site in the browser's settings and try again.";
  }
  if (name === "AbortError" || /push service/i.test(text)) {
    return "The browser could not reach its push service. Check the internet connection and try again in a moment.";
  }
  if (name === "InvalidStateError") {
    return "The app's background worker is not ready yet. Reload the page and try again.";
  }
  if (name === "NotSupportedError") {
    return "This browser cannot receive push notifications here. Try another browser, or the installed app.";
  }
  return text;
}

function isIosBrowserTab(): boolean {
  const ios = /iPhone|iPad|iPod/.test(navigator.userAgent);
  const standalone =
    window.matchMedia("(display-mode: standalone)").matches ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true;
  return ios && !standalone;
}

export function PushSettings({ publicKey, devices }: { publicKey: string; devices: DeviceRow[] }) {
  const router = useRouter();
  const [state, setState] = useState<ToggleState>("checking");
  const [busy, setBusy] = useState<"enabling" | "disabling" | null>(null);
  const [error, setError] = useState<{ summary: string; detail?: string } | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [currentEndpoint, setCurrentEndpoint] = useState<string | null>(null);
  const [iosHint, setIosHint] = useState(false);
  const [pending, startTransition] = useTransition();
  const knownEndpoints = devices.map((device) => device.endpoint).join("\n");

  const refreshState = useCallback(async () => {
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      setState("unsupported");
      return;
    }
    const reg = await registration();
    const subscription = await reg.pushManager.getSubscription();
    if (subscription && !sameKey(subscription, publicKey)) {
      // The administrator regenerated the server key: this subscription can never receive anything.
      await subscription.unsubscribe();
      setNotice("Push notifications were reset for all devices. Enable them again on this device.");
      setCurrentEndpoint(null);
      setState("off");
      return;
    }
    const known = subscription !== null && knownEndpoints.split("\n").includes(subscription.endpoint);
    setCurrentEndpoint(known ? subscription.endpoint : null);
    setState(known ? "on" : "off");
  }, [publicKey, knownEndpoints]);

  useEffect(() => {
    setIosHint(isIosBrowserTab());
    refreshState().catch(() => setState("off"));
  }, [refreshState]);

  async function enable() {
    setError(null);
    setNotice(null);
    setBusy("enabling");
    let subscription: PushSubscription | null = null;
    try {
      if (Notification.permission === "denied") {
        throw new Error(
          "Notifications are blocked for this site. Allow them in the browser's site settings.",
        );
      }
      const permission = await Notification.requestPermission();
      if (permission !== "granted") throw new PlainError("Permission to show notifications was not given.");
      const reg = await registration();
      subscription = await withTimeout(
        reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) }),
        SUBSCRIBE_TIMEOUT_MS,
        `The browser did not finish subscribing within ${SUBSCRIBE_TIMEOUT_MS / 1000} seconds. Check the internet connection and try again; if it keeps happening, this browser may not support push notifications here.`,
      );
      const response = await fetch("/api/push/subscriptions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(subscription.toJSON()),
      });
      if (!response.ok) {
        const body = (await response.json().catch(() => ({}))) as { error?: string };
        throw new PlainError(body.error ?? `The server refused the subscription (${response.status}).`);
      }
      setCurrentEndpoint(subscription.endpoint);
      setState("on");
      router.refresh();
    } catch (cause) {
      await subscription?.unsubscribe().catch(() => {});
      setError({ summary: FAILED, detail: explainPushError(cause) });
      setState("off");
    } finally {
      setBusy(null);
    }
  }

  async function disable() {
    setError(null);
    setNotice(null);
    setBusy("disabling");
    try {
      const reg = await registration();
      const subscription = await reg.pushManager.getSubscription();
      if (subscription) {
        await fetch("/api/push/subscriptions", {
          method: "DELETE",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ endpoint: subscription.endpoint }),
        });
        await subscription.unsubscribe();
      }
      setCurrentEndpoint(null);
      setState("off");
      router.refresh();
    } catch (cause) {
      setError({
        summary: "This device could not disable push notifications.",
        detail: explainPushError(cause),
      });
    } finally {
      setBusy(null);
    }
  }

  function sendTest() {
    setError(null);
    setNotice(null);
    startTransition(async () => {
      const result = await sendTestNotificationAction({});
      if (result.ok) setNotice("Test notification sent. It should appear in a moment.");
      else setError({ summary: result.error });
    });
  }

  function remove(device: DeviceRow) {
    setError(null);
    startTransition(async () => {
      const result = await removeDeviceAction({ id: device.id });
      if (!result.ok) {
        setError({ summary: result.error });
        return;
      }
      if (device.endpoint === currentEndpoint) {
        const reg = await registration();
        await (await reg.pushManager.getSubscription())?.unsubscribe();
        setCurrentEndpoint(null);
        setState("off");
      }
      router.refresh();
    });
  }

  const checked = state === "on";
  return (
    <>
      <div className="card stack">
        <div className="switch-row">
          <div>
            <p className="switch-label" id="push-toggle-label">
              Enable push notifications on this device
            </p>
            <p className="muted" id="push-toggle-help">
              When enabled, this device shows a notification when your reimbursement is approved or rejected,
              or a claim waits for your approval — even when the app is closed. Each device is enabled
              separately.
            </p>
          </div>
          <button
            type="button"
            role="switch"
            className="switch"
            aria-checked={checked}
            aria-labelledby="push-toggle-label"
            aria-describedby="push-toggle-help"
            aria-busy={busy !== null}
            disabled={busy !== null || state === "checking" || state === "unsupported"}
            onClick={() => (checked ? disable() : enable())}
          >
            <span className="switch-thumb" />
          </button>
        </div>
        <p className="muted small switch-state" aria-live="polite">
          {busy === "enabling"
            ? "Enabling… Answer the browser's question if it asks."
            : busy === "disabling"
              ? "Turning off…"
              : state === "on"
                ? "On for this device."
                : state === "off"
                  ? "Off for this device."
                  : ""}
        </p>
        {state === "unsupported" ? (
          <Notice tone="error" announce={false}>
            This browser does not support push notifications.
          </Notice>
        ) : null}
        {iosHint ? (
          <Notice tone="info">
            On iPhone and iPad, notifications work in the installed app: tap Share, then “Add to Home Screen”,
            and enable them there.
          </Notice>
        ) : null}
        {error ? (
          <Notice tone="error" as="div">
            <strong>{error.summary}</strong>
            {error.detail ? <div>{error.detail}</div> : null}
          </Notice>
        ) : null}
        {notice ? <Notice tone="success">{notice}</Notice> : null}
        {checked ? (
          <div>
            <button type="button" className="button" onClick={sendTest} disabled={pending}>
              {pending ? "Sending…" : "Send a test notification"}
            </button>
          </div>
        ) : null}
      </div>

      <section className="card stack" aria-labelledby="devices-heading">
        <h2 id="devices-heading">Your devices</h2>
        {devices.length === 0 ? (
          <p className="muted">No device has push notifications enabled yet.</p>
        ) : (
          <ul className="device-list">
            {devices.map((device) => (
              <li key={device.id} className="device">
                <div>
                  <strong>{device.deviceLabel}</strong>
                  {device.endpoint === currentEndpoint ? <span className="badge">This device</span> : null}
                  <div className="muted small">
                    Enabled {formatDateTime(device.createdAt)} · Last delivered{" "}
                    {device.lastSuccessAt ? formatDateTime(device.lastSuccessAt) : "never"}
                  </div>
                  {device.lastError && device.lastFailureAt ? (
                    <div className="small field-error">
                      Last problem {formatDateTime(device.lastFailureAt)}: {device.lastError}
                    </div>
                  ) : null}
                </div>
                <button
                  type="button"
                  className="button"
                  onClick={() => remove(device)}
                  disabled={pending}
                  aria-label={`Remove ${device.deviceLabel}`}
                >
                  Remove
                </button>
              </li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}
