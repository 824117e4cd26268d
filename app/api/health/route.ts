import { NextResponse } from "next/server";
import { getDatabase } from "@/db/client";
import { getCurrentUser } from "@/lib/auth/guards";
import { hasRole } from "@/lib/auth/roles";
import { getEnv } from "@/lib/env";
import { getHealth } from "@/lib/health";
import { apiRoute } from "@/lib/http/route";
import { getWorkerHost, prepareDatabase } from "@/lib/runtime/startup";
import { listLiveWorkers } from "@/lib/worker/registry";

export const dynamic = "force-dynamic";
const noStore = { "Cache-Control": "no-store" };

/**
 * For load balancers and monitors: 200 when the database answers and due work has a live worker,
 * 503 otherwise. Host names, process ids and worker ids are shown to administrators only.
 */
/** The in-process worker without its id or errors: whether it runs and which consumers it has. */
function publicStatus() {
  const status = getWorkerHost()?.status();
  if (!status) return null;
  // Counts only: a consumer's lastError may hold driver text.
  const consumers = status.consumers.map(({ name, inFlight, processed, failed }) => ({
    name,
    inFlight,
    processed,
    failed,
  }));
  return { kind: status.kind, running: status.running, consumers };
}

export const GET = apiRoute(async () => {
  const handle = getDatabase();
  try {
    await prepareDatabase();
    const health = await getHealth({ leaseSeconds: getEnv().BACKGROUND_LEASE_SECONDS }, handle.db);
    const user = await getCurrentUser().catch(() => null);
    const admin = user !== null && hasRole(user.role, "admin");
    const body = {
      ok: health.ok,
      database: handle.kind,
      ...(health.ok ? {} : { error: "Work is waiting and no worker is running it." }),
      workDue: health.workDue,
      workers: {
        live: health.liveWorkers,
        lastHeartbeatSecondsAgo: health.lastHeartbeatSecondsAgo,
        ...(admin
          ? {
              processes: (await listLiveWorkers(handle.db)).map(
                ({ id, kind, hostname, pid, consumers, heartbeatAt }) => ({
                  id,
                  kind,
                  hostname,
                  pid,
                  consumers,
                  heartbeatAt,
                }),
              ),
              inProcess: getWorkerHost()?.status() ?? null,
            }
          : { inProcess: publicStatus() }),
      },
      time: new Date().toISOString(),
    };
    return NextResponse.json(body, { status: health.ok ? 200 : 503, headers: noStore });
  } catch (error) {
    console.error("[health] database check failed", error);
    return NextResponse.json(
      { ok: false, database: handle.kind, error: "The database is not reachable." },
      { status: 503, headers: noStore },
    );
  }
});
