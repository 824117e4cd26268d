import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/http/route";
import { loadExecution } from "./load";

export const dynamic = "force-dynamic";

/** One execution's status for its owner or an administrator (others: 404, as for a missing id). */
export const GET = apiRoute(async (_request: Request, { params }: { params: Promise<{ id: string }> }) => {
  const { execution } = await loadExecution(params);
  return NextResponse.json({ ok: true, execution }, { headers: { "Cache-Control": "no-store" } });
});
