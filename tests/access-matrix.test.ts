import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { accessMatrix, entryKey } from "../e2e/support/access-matrix";

const root = path.resolve(import.meta.dirname, "..");
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"));
}

/** `app/(app)/reimbursements/[id]/page.tsx` → `/reimbursements/[id]` (route groups are not in URLs). */
function urlOf(file: string): string {
  const segments = path
    .dirname(file)
    .split("/")
    .slice(1)
    .filter((segment) => !/^\(.*\)$/.test(segment));
  return `/${segments.join("/")}`;
}

/** Exported names of a module, from its source: `export (async) function x`, `export const x`, `export const { a, b }`. */
function exportedNames(source: string): string[] {
  const names = [...source.matchAll(/^export\s+(?:async\s+)?(?:function|const|let)\s+(\w+)/gm)].map(
    (m) => m[1]!,
  );
  for (const match of source.matchAll(/^export\s+const\s+\{([^}]+)\}/gm)) {
    names.push(
      ...match[1]!.split(",").map(
        (name) =>
          name
            .trim()
            .split(/\s*:\s*/)
            .pop()!,
      ),
    );
  }
  return names.filter(Boolean);
}

/** Every page, route handler method and server action the app has, keyed as the matrix keys them. */
function appSurface(): string[] {
  const keys: string[] = [];
  for (const file of filesUnder("app")) {
    if (/\/page\.tsx?$/.test(file)) keys.push(`page ${urlOf(file)}`);
    else if (/\/route\.ts$/.test(file)) {
      const source = readFileSync(path.join(root, file), "utf8");
      for (const method of exportedNames(source).filter((name) => METHODS.includes(name))) {
        keys.push(`route ${method} ${urlOf(file)}`);
      }
    } else if (/^app\/manifest\.ts$/.test(file)) keys.push("route GET /manifest.webmanifest");
    else if (/\.tsx?$/.test(file)) {
      // Any module marked "use server" exports server actions, whatever the file is called.
      const source = readFileSync(path.join(root, file), "utf8");
      if (/^\s*["']use server["']/.test(source)) {
        for (const name of exportedNames(source)) keys.push(`action ${file}#${name}`);
      }
    }
  }
  return keys.sort();
}

describe("the authorisation matrix (e2e/support/access-matrix.ts)", () => {
  it("has a line for every page, route handler and server action, and none for things that are gone", () => {
    const surface = appSurface();
    const listed = new Set(accessMatrix.map(entryKey));
    const missing = surface.filter((key) => !listed.has(key));
    const stale = [...listed].filter((key) => !surface.includes(key));
    expect(
      missing,
      `Missing from e2e/support/access-matrix.ts (add one line each, with its rule):\n  ${missing.join("\n  ")}`,
    ).toEqual([]);
    expect(stale, `Listed in e2e/support/access-matrix.ts but not in app/:\n  ${stale.join("\n  ")}`).toEqual(
      [],
    );
  });

  it("finds the surface it scans (the scanner itself works)", () => {
    const surface = appSurface();
    expect(surface).toContain("page /reimbursements/[id]");
    expect(surface).toContain("route POST /api/approvals/[taskId]/[decision]");
    expect(surface).toContain("route GET /api/auth/[...nextauth]");
    expect(surface).toContain("action app/(app)/approvals/actions.ts#decideAction");
    expect(exportedNames("export const { GET, POST } = handlers;\nexport async function PUT() {}")).toEqual([
      "PUT",
      "GET",
      "POST",
    ]);
  });
});
