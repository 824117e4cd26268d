import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";
import { describe, expect, it } from "vitest";

interface SwLogic {
  parsePushData(
    text: string,
    origin: string,
  ): {
    title: string;
    options: Record<string, unknown> & { data: { url: string; actions: Record<string, string> } };
  };
  clickTarget(data: unknown, action: string, origin: string): string;
  actionPost(data: unknown, action: string, origin: string): string | null;
  chooseClient<C extends { url: string; focused?: boolean }>(
    clients: C[],
    target: string,
    origin: string,
  ): C | null;
}

// The service worker's own file, run in a sandbox the way importScripts() runs it.
function loadSwLogic(): SwLogic {
  const sandbox = { self: {} as { SwLogic?: SwLogic }, URL };
  vm.runInNewContext(readFileSync(path.join(import.meta.dirname, "../public/sw-logic.js"), "utf8"), sandbox);
  return sandbox.self.SwLogic!;
}

const logic = loadSwLogic();
const origin = "https://approvals.example.com";

describe("service worker: push payloads", () => {
  it("shows Apple's declarative shape with its target, icon and actions", () => {
    const shown = logic.parsePushData(
      JSON.stringify({
        web_push: 8030,
        notification: {
          title: "New reimbursement claim",
          body: "Claim for $59.95 from Joe's Pharmacy by BO",
          navigate: `${origin}/approvals`,
          tag: "claim-7",
          icon: "/icons/icon-192.png",
          actions: [
            { action: "approve", title: "Approve", navigate: `${origin}/approvals?approve=7` },
            { action: "reject", title: "Reject", navigate: `${origin}/approvals?reject=7` },
          ],
        },
      }),
      origin,
    );
    expect(shown.title).toBe("New reimbursement claim");
    expect(shown.options).toMatchObject({
      body: "Claim for $59.95 from Joe's Pharmacy by BO",
      tag: "claim-7",
      icon: `${origin}/icons/icon-192.png`,
      badge: `${origin}/icons/badge-72.png`,
      data: { url: `${origin}/approvals`, actions: { approve: `${origin}/approvals?approve=7` } },
    });
    expect(shown.options.actions).toEqual([
      { action: "approve", title: "Approve" },
      { action: "reject", title: "Reject" },
    ]);
  });

  it("accepts a plain {title, body, url} object and plain text", () => {
    expect(
      logic.parsePushData(JSON.stringify({ title: "Hi", body: "There", url: "/x" }), origin),
    ).toMatchObject({
      title: "Hi",
      options: { body: "There", data: { url: `${origin}/x` } },
    });
    expect(logic.parsePushData("just text", origin)).toMatchObject({
      title: "Approval Notifications",
      options: { body: "just text", data: { url: `${origin}/` } },
    });
    expect(logic.parsePushData("", origin).options.body).toBe("You have a new notification.");
  });

  it("never keeps a script URL as a target", () => {
    const shown = logic.parsePushData(JSON.stringify({ title: "x", url: "javascript:alert(1)" }), origin);
    expect(shown.options.data.url).toBe(`${origin}/`);
  });
});

describe("service worker: notification clicks", () => {
  const data = { url: `${origin}/reimbursements/42`, actions: { approve: `${origin}/approvals?approve=42` } };

  it("opens the target, or the action's target", () => {
    expect(logic.clickTarget(data, "", origin)).toBe(`${origin}/reimbursements/42`);
    expect(logic.clickTarget(data, "approve", origin)).toBe(`${origin}/approvals?approve=42`);
    expect(logic.clickTarget(data, "unknown", origin)).toBe(`${origin}/reimbursements/42`);
    expect(logic.clickTarget(null, "", origin)).toBe(`${origin}/`);
  });

  it("reuses the window already on the target, else the focused one, else any; never another site's", () => {
    const home = { url: `${origin}/`, focused: false };
    const focused = { url: `${origin}/approvals`, focused: true };
    const onTarget = { url: `${origin}/reimbursements/42`, focused: false };
    const other = { url: "https://elsewhere.example.com/", focused: true };
    expect(logic.chooseClient([home, focused, onTarget], `${origin}/reimbursements/42`, origin)).toBe(
      onTarget,
    );
    expect(logic.chooseClient([home, focused], `${origin}/reimbursements/42`, origin)).toBe(focused);
    expect(logic.chooseClient([home], `${origin}/x`, origin)).toBe(home);
    expect(logic.chooseClient([other], `${origin}/x`, origin)).toBeNull();
    expect(logic.chooseClient([], `${origin}/x`, origin)).toBeNull();
  });
});

describe("service worker: Approve / Reject from the notification", () => {
  const payload = (post: string) =>
    JSON.stringify({
      web_push: 8030,
      notification: {
        title: "New reimbursement claim",
        navigate: `${origin}/approvals`,
        actions: [{ action: "approve", title: "Approve", navigate: `${origin}/approvals`, post }],
      },
    });

  it("posts to this app's API with the action", () => {
    const { options } = logic.parsePushData(payload("/api/approvals/7/approve"), origin);
    expect(logic.actionPost(options.data, "approve", origin)).toBe(`${origin}/api/approvals/7/approve`);
    expect(logic.actionPost(options.data, "", origin)).toBeNull();
    expect(logic.actionPost(options.data, "reject", origin)).toBeNull();
  });

  it.each(["https://evil.example.com/api/x", "/settings/push", "javascript:alert(1)"])(
    "never posts anywhere else (%s)",
    (post) => {
      const { options } = logic.parsePushData(payload(post), origin);
      expect(logic.actionPost(options.data, "approve", origin)).toBeNull();
    },
  );
});
