import { NextResponse } from "next/server";
import { z } from "zod";
import { requireApiUser } from "@/lib/auth/api";
import { executionStatuses, getConcurrencyUsage, listExecutions } from "@/lib/chains";
import { apiRoute, parseOrThrow } from "@/lib/http/route";

export const dynamic = "force-dynamic";

const querySchema = z.object({
  scope: z.enum(["mine", "all"]).default("mine"),
  status: z.enum(executionStatuses).optional(),
});

/** Live data of the executions pages: a user's own executions, or (admins only) everybody's. */
export const GET = apiRoute(async (request: Request) => {
  const query = parseOrThrow(querySchema, Object.fromEntries(new URL(request.url).searchParams));
  const user = await requireApiUser(query.scope === "all" ? "admin" : "employee");
  if (query.scope === "all") {
    const [executions, usage] = await Promise.all([
      listExecutions({ status: query.status }),
      getConcurrencyUsage(),
    ]);
    return NextResponse.json({ ok: true, executions, usage }, { headers: { "Cache-Control": "no-store" } });
  }
  const executions = await listExecutions({ userId: user.id, status: query.status });
  return NextResponse.json({ ok: true, executions }, { headers: { "Cache-Control": "no-store" } });
});
