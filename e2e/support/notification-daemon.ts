// A desktop notification server (org.freedesktop.Notifications, the D-Bus API that GNOME, KDE and dunst
// implement) on a private session bus. Firefox's system alert backend (libnotify) shows web notifications
// here, with their action buttons; pressing a button is the ActionInvoked signal, exactly what a desktop
// sends when a person clicks it. Used by the Firefox tests to press Approve / Reject for real.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import dbus from "dbus-next";

export interface DesktopNotification {
  id: number;
  appName: string;
  summary: string;
  body: string;
  /** Action keys and labels, as sent: [key, label, key, label, …]. */
  actions: string[];
  closed: boolean;
}

const { Interface } = dbus.interface;

class Notifications extends Interface {
  readonly shown: DesktopNotification[] = [];
  private nextId = 1;

  GetCapabilities(): string[] {
    return ["actions", "body", "body-hyperlinks", "icon-static", "persistence"];
  }

  GetServerInformation(): string[] {
    return ["approval-notifications-test", "local", "1.0", "1.2"];
  }

  Notify(
    appName: string,
    replacesId: number,
    _icon: string,
    summary: string,
    body: string,
    actions: string[],
    _hints: unknown,
    _timeout: number,
  ): number {
    const id = replacesId || this.nextId++;
    this.shown.push({ id, appName, summary, body, actions, closed: false });
    return id;
  }

  CloseNotification(id: number): void {
    this.close(id, 3);
  }

  close(id: number, reason: number) {
    for (const notification of this.shown) if (notification.id === id) notification.closed = true;
    this.NotificationClosed(id, reason);
  }

  ActionInvoked(id: number, actionKey: string): [number, string] {
    return [id, actionKey];
  }

  NotificationClosed(id: number, reason: number): [number, number] {
    return [id, reason];
  }
}

Notifications.configureMembers({
  methods: {
    GetCapabilities: { inSignature: "", outSignature: "as" },
    GetServerInformation: { inSignature: "", outSignature: "ssss" },
    Notify: { inSignature: "susssasa{sv}i", outSignature: "u" },
    CloseNotification: { inSignature: "u", outSignature: "" },
  },
  signals: {
    ActionInvoked: { signature: "us" },
    NotificationClosed: { signature: "uu" },
  },
});

export class NotificationDaemon {
  private constructor(
    /** For DBUS_SESSION_BUS_ADDRESS of the browser. */
    readonly busAddress: string,
    private readonly daemon: ChildProcess,
    private readonly bus: dbus.MessageBus,
    private readonly service: Notifications,
    private readonly dir: string,
  ) {}

  /** Starts a private dbus-daemon and serves org.freedesktop.Notifications on it. */
  static async start(): Promise<NotificationDaemon> {
    const dir = mkdtempSync(path.join(tmpdir(), "an-dbus-"));
    const busAddress = `unix:path=${path.join(dir, "bus")}`;
    const daemon = spawn(
      "dbus-daemon",
      ["--session", "--nofork", `--address=${busAddress}`, "--print-address"],
      {
        // Its stderr only complains that it may not raise its file limit in the sandbox.
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    await new Promise<void>((resolve, reject) => {
      daemon.once("error", (error) => reject(new Error(`dbus-daemon could not start: ${error.message}`)));
      daemon.once("exit", (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
      daemon.stdout!.once("data", () => resolve());
    });
    const bus = dbus.sessionBus({ busAddress });
    await bus.requestName("org.freedesktop.Notifications", 0);
    const service = new Notifications("org.freedesktop.Notifications");
    bus.export("/org/freedesktop/Notifications", service);
    return new NotificationDaemon(busAddress, daemon, bus, service, dir);
  }

  get shown(): DesktopNotification[] {
    return this.service.shown;
  }

  /** What a person's click on one of the notification's buttons sends (then the desktop closes it). */
  pressAction(notification: DesktopNotification, actionKey: string): void {
    if (!notification.actions.includes(actionKey)) {
      throw new Error(`"${notification.summary}" has no action "${actionKey}" (${notification.actions})`);
    }
    this.service.ActionInvoked(notification.id, actionKey);
    this.service.close(notification.id, 2);
  }

  async stop(): Promise<void> {
    this.bus.disconnect();
    if (this.daemon.exitCode === null) {
      const exited = new Promise((resolve) => this.daemon.once("exit", resolve));
      this.daemon.kill("SIGTERM");
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
