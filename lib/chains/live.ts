import "server-only";
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { EXECUTION_STATUS_CHANNEL } from "@/db/channels";
import { type DatabaseHandle, getDatabase } from "@/db/client";

/** A watch lasts this long unless renewed; a process that died leaves nothing behind for longer. */
const WATCH_MS = 60_000;
const RENEW_MS = 20_000;

interface Hub {
  handle: DatabaseHandle;
  listeners: Map<number, Set<() => void>>;
  unlisten: Promise<() => Promise<void>>;
}

const globalForLive = globalThis as unknown as { __executionStatusHubs?: Map<DatabaseHandle, Hub> };
globalForLive.__executionStatusHubs ??= new Map();
const hubs = globalForLive.__executionStatusHubs;

/** One LISTEN connection per process (and database), fanned out to every open stream by execution id. */
function hubOf(handle: DatabaseHandle): Hub {
  let hub = hubs.get(handle);
  if (!hub) {
    const listeners = new Map<number, Set<() => void>>();
    const unlisten = handle.listen(EXECUTION_STATUS_CHANNEL, (payload) => {
      for (const listener of listeners.get(Number(payload)) ?? []) listener();
    });
    hub = { handle, listeners, unlisten };
    hubs.set(handle, hub);
    // A failed LISTEN must not stay cached: the next watcher tries again.
    unlisten.catch(() => hubs.delete(handle));
  }
  return hub;
}

/**
 * Calls `onChange` whenever the status, progress or message of execution `id` changes, until the returned
 * function is called. While watched, the engine's status writes NOTIFY this execution (see
 * execution_watchers); callers re-read it with getExecution.
 */
export async function watchExecution(
  id: number,
  onChange: () => void,
  handle: DatabaseHandle = getDatabase(),
): Promise<() => Promise<void>> {
  const hub = hubOf(handle);
  await hub.unlisten;
  const set = hub.listeners.get(id) ?? new Set();
  set.add(onChange);
  hub.listeners.set(id, set);
  const watcherId = randomUUID();
  const renew = () =>
    handle.db.execute(
      sql`insert into execution_watchers (execution_id, watcher_id, expires_at)
          select ${id}, ${watcherId}, clock_timestamp() + make_interval(secs => ${WATCH_MS / 1000})
          where exists (select 1 from executions where id = ${id})
          on conflict (execution_id, watcher_id) do update set expires_at = excluded.expires_at`,
    );
  await renew();
  const timer = setInterval(() => void renew().catch(() => {}), RENEW_MS);
  timer.unref();
  return async () => {
    clearInterval(timer);
    set.delete(onChange);
    if (set.size === 0) hub.listeners.delete(id);
    await handle.db
      .execute(sql`delete from execution_watchers where execution_id = ${id} and watcher_id = ${watcherId}`)
      .catch(() => {});
  };
}
