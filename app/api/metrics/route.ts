import { timingSafeEqual } from "node:crypto";
import { getDatabase } from "@/db/client";
import { requireApiUser } from "@/lib/auth/api";
import { getEnv } from "@/lib/env";
import { HttpError } from "@/lib/http/errors";
import { apiRoute } from "@/lib/http/route";
import { renderMetrics } from "@/lib/metrics/collect";
import { prepareDatabase } from "@/lib/runtime/startup";

export const dynamic = "force-dynamic";

function bearerMatches(header: string | null, token: string | undefined): boolean {
  if (!token || !header?.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice("Bearer ".length).trim());
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Prometheus metrics: for a scraper holding METRICS_TOKEN (Authorization: Bearer …) or a signed-in admin. */
export const GET = apiRoute(async (request: Request) => {
  const header = request.headers.get("authorization");
  if (!bearerMatches(header, getEnv().METRICS_TOKEN)) {
    if (header?.startsWith("Bearer ")) throw new HttpError("unauthorized", "The metrics token is not valid.");
    await requireApiUser("admin");
  }
  await prepareDatabase();
  const { contentType, body } = await renderMetrics(getDatabase().db);
  return new Response(body, { headers: { "content-type": contentType, "cache-control": "no-store" } });
});
