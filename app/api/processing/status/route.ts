import { NextResponse } from "next/server";
import { requireApiUser } from "@/lib/auth/api";
import { listProcessingStatus } from "@/lib/departments/queries";
import { apiRoute } from "@/lib/http/route";

export const dynamic = "force-dynamic";

/** Live data of /processing/status: every user's department processing, waiting or running. */
export const GET = apiRoute(async () => {
  await requireApiUser();
  const rows = await listProcessingStatus();
  return NextResponse.json(
    { ok: true, rows, now: new Date().toISOString() },
    { headers: { "Cache-Control": "no-store" } },
  );
});
