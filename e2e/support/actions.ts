import { readFileSync } from "node:fs";
import path from "node:path";
import type { APIRequestContext } from "@playwright/test";

/** A FormData argument of a server action (what a <form action={…}> passes). */
export class FormArg {
  constructor(readonly fields: Record<string, string>) {}
}

interface ManifestEntry {
  filename?: string;
  exportedName?: string;
  workers: Record<string, unknown>;
}

let manifest: Map<string, { id: string; pagePath: string }> | undefined;

/** `app/(app)/approvals/page` → `/approvals` (route groups dropped). */
function pagePathOf(worker: string): string {
  const segments = worker
    .replace(/^app\//, "")
    .replace(/\/?page$/, "")
    .split("/")
    .filter((segment) => segment && !/^\(.*\)$/.test(segment));
  return `/${segments.join("/")}`;
}

/** Server actions of the production build, by `file#export` (the key the access matrix uses). */
export function serverActions(): Map<string, { id: string; pagePath: string }> {
  if (manifest) return manifest;
  const file = path.join(import.meta.dirname, "../../.next/server/server-reference-manifest.json");
  const json = JSON.parse(readFileSync(file, "utf8")) as { node: Record<string, ManifestEntry> };
  manifest = new Map();
  for (const [id, entry] of Object.entries(json.node)) {
    if (!entry.filename || !entry.exportedName) continue;
    const workers = Object.keys(entry.workers);
    // The page beside the actions file first (the sign-in actions are callable from the public /signin).
    const beside = `${path.posix.dirname(entry.filename)}/page`;
    const worker = workers.find((w) => w === beside) ?? workers.find((w) => !w.includes("[")) ?? workers[0]!;
    manifest.set(`${entry.filename}#${entry.exportedName}`, { id, pagePath: pagePathOf(worker) });
  }
  return manifest;
}

export interface ActionResponse {
  status: number;
  /** The action's return value when it returned an `{ ok, … }` object. */
  result: {
    ok: boolean;
    error?: string;
    fieldErrors?: Record<string, string[]>;
    [key: string]: unknown;
  } | null;
  body: string;
  redirect: string | undefined;
  location: string | undefined;
}

/**
 * Calls a server action the way the browser's router does: POST to a page with `Next-Action: <id>` and
 * the arguments encoded as React's reply format (JSON, or multipart when a FormData is passed).
 */
export async function callAction(
  request: APIRequestContext,
  key: string,
  args: unknown[],
  baseURL: string,
): Promise<ActionResponse> {
  const action = serverActions().get(key);
  if (!action) throw new Error(`server action ${key} is not in the build (is it used by a page?)`);
  const headers = { "next-action": action.id, accept: "text/x-component", origin: baseURL };
  const forms = args.filter((arg): arg is FormArg => arg instanceof FormArg);
  let response: Awaited<ReturnType<APIRequestContext["post"]>>;
  if (forms.length > 0) {
    // React's reply format: field "0" holds the arguments, a FormData argument becomes "$K<id>" and its
    // entries are sent as "_<id>_<name>", contiguous.
    const fields: [string, string][] = [];
    let next = 1;
    const root = args.map((arg) => {
      if (!(arg instanceof FormArg)) return arg;
      const id = next++;
      for (const [name, value] of Object.entries(arg.fields)) fields.push([`_${id}_${name}`, value]);
      return `$K${id.toString(16)}`;
    });
    // The root goes last, as the browser sends it: the server resolves it the moment it arrives.
    const multipart = new FormData();
    for (const [name, value] of fields) multipart.append(name, value);
    multipart.append("0", JSON.stringify(root));
    response = await request.post(action.pagePath, { headers, multipart, maxRedirects: 0 });
  } else {
    response = await request.post(action.pagePath, {
      headers: { ...headers, "content-type": "text/plain;charset=UTF-8" },
      data: JSON.stringify(args),
      maxRedirects: 0,
    });
  }
  const body = await response.text();
  return {
    status: response.status(),
    result: flightResult(body),
    body,
    redirect: response.headers()["x-action-redirect"],
    location: response.headers().location,
  };
}

/** Finds the `{ ok: … }` value in a React Flight response (one `id:json` row per line). */
function flightResult(body: string): ActionResponse["result"] {
  for (const line of body.split("\n")) {
    const match = /^[0-9a-f]+:(\{.*\})$/.exec(line);
    if (!match) continue;
    try {
      const value = JSON.parse(match[1]!) as Record<string, unknown>;
      if (typeof value.ok === "boolean") return value as ActionResponse["result"];
    } catch {
      // not a JSON row
    }
  }
  return null;
}
