// Every state-changing route handler refuses cross-site requests (SPEC H5): checked on the source, so a
// new POST/PUT/PATCH/DELETE handler without the check fails here before any attack finds it.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "..");
const routes = readdirSync(path.join(root, "app/api"), { recursive: true, encoding: "utf8" })
  .filter((file) => file.endsWith("route.ts"))
  .map((file) => path.join("app/api", file));

/** next-auth's own routes carry its CSRF token (double-submit) on every POST. */
const OWN_CSRF = new Set(["app/api/auth/[...nextauth]/route.ts"]);

describe("state-changing route handlers", () => {
  it("are found", () => {
    expect(routes.length).toBeGreaterThan(5);
  });

  for (const file of routes) {
    const source = readFileSync(path.join(root, file), "utf8");
    const methods = [...source.matchAll(/export const (POST|PUT|PATCH|DELETE)\b/g)].map((m) => m[1]!);
    if (methods.length === 0 || OWN_CSRF.has(file)) continue;
    it(`${file} checks Origin in ${methods.join(", ")}`, () => {
      for (const method of methods) {
        const start = source.indexOf(`export const ${method}`);
        const next = source.indexOf("\nexport ", start + 1);
        const body = source.slice(start, next === -1 ? undefined : next);
        expect(body, `${method} calls requireSameOrigin`).toContain("requireSameOrigin(request)");
      }
    });
  }
});

describe("route handlers", () => {
  // One error convention (SPEC S4): each handler is wrapped in apiRoute, so every error code maps to its
  // HTTP status in one place (lib/http/errors.ts) and anything unexpected is logged and answered 500.
  for (const file of routes) {
    const source = readFileSync(path.join(root, file), "utf8");
    const exported = [
      ...source.matchAll(
        /export (?:const|async function|function) (GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)\b/g,
      ),
    ];
    it(`${file} answers through apiRoute`, () => {
      expect(exported.length).toBeGreaterThan(0);
      for (const [, method] of exported) {
        expect(source, `${method} is wrapped in apiRoute`).toContain(`export const ${method} = apiRoute(`);
      }
    });
  }
});
