import { NextResponse } from "next/server";
import { getDatabase } from "@/db/client";
import { getWorkerHost, prepareDatabase } from "@/lib/runtime/startup";
import { listLiveWorkers } from "@/lib/worker/registry";

export const dynamic = "force-dynamic";

export async function GET() {
  const handle = getDatabase();
  try {
    await prepareDatabase();
    const live = await listLiveWorkers(handle.db);
    const inProcess = getWorkerHost()?.status() ?? null;
    return NextResponse.json({
      ok: true,
      database: handle.kind,
      workers: {
        live: live.length,
        processes: live.map(({ id, kind, hostname, pid, consumers, heartbeatAt }) => ({
          id,
          kind,
          hostname,
          pid,
          consumers,
          heartbeatAt,
        })),
        inProcess,
      },
      time: new Date().toISOString(),
    });
  } catch (error) {
    console.error("[health] database check failed", error);
    return NextResponse.json(
      { ok: false, database: handle.kind, error: "The database is not reachable." },
      { status: 503 },
    );
  }
}
