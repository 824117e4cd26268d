import { inArray } from "drizzle-orm";
import { afterAll, afterEach, beforeAll } from "vitest";
import type { Database, DatabaseHandle } from "@/db/client";
import { type Execution, executionSettings, executions, users } from "@/db/schema";
import { type Chain, runInBackground } from "@/lib/chains";
import { executionsConsumer } from "@/lib/chains/consumer";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./fresh-database";

/** Steps that wait until the test opens their gate, so "running at once" is a state, not a timing. */
/** Waits until `host` has completed two more claim rounds: whatever it was going to start, it started. */
export async function claimedTwiceMore(host: WorkerHost): Promise<void> {
  const claims = () => host.status().consumers[0]?.claims ?? 0;
  const from = claims();
  await waitFor(
    async () => claims(),
    (n) => n >= from + 2,
  );
}

export class Gates {
  private readonly waiting = new Map<string, () => void>();
  private readonly opened = new Set<string>();

  /** Resolves once `open(tag)` was called (before or after). */
  wait(tag: string): Promise<void> {
    if (this.opened.has(tag)) return Promise.resolve();
    return new Promise((resolve) => this.waiting.set(tag, resolve));
  }

  open(tag: string): void {
    this.opened.add(tag);
    this.waiting.get(tag)?.();
  }

  has(tag: string): boolean {
    return this.waiting.has(tag);
  }

  reset(): void {
    for (const release of this.waiting.values()) release();
    this.waiting.clear();
    this.opened.clear();
  }
}

export interface Person {
  id: number;
  username: string;
}

const quiet = { info: () => {}, error: () => {} };

/**
 * A database of the test file's own with worker hosts that the hooks stop after each test (which also
 * empties executions and the runtime limits): the shared set-up of the chains engine's test files.
 */
export function chainsHarness(prefix: string, defaults: Parameters<typeof executionsConsumer>[0]) {
  const gates = new Gates();
  const hosts: WorkerHost[] = [];
  let fresh: FreshDatabase;
  const people = { bo: { id: 0, username: "bo" } as Person, steve: { id: 0, username: "steve" } as Person };

  async function startHost(options: Parameters<typeof executionsConsumer>[0] = {}, on?: DatabaseHandle) {
    const host = new WorkerHost(on ?? fresh.handle, "worker", quiet).register(
      executionsConsumer({ ...defaults, ...options }),
    );
    hosts.push(host);
    await host.start();
    return host;
  }
  /** The executions `ids`, read in one statement (one snapshot), in the order asked. */
  async function rows(ids: number[]): Promise<Execution[]> {
    const found = await fresh.handle.db.select().from(executions).where(inArray(executions.id, ids));
    return ids.map((id) => found.find((r) => r.id === id)!);
  }
  async function statuses(ids: number[]): Promise<Execution["status"][]> {
    return (await rows(ids)).map((r) => r.status);
  }
  function enqueue<S extends object>(
    chain: Chain<S>,
    input: S,
    who: Person = people.bo,
    session?: string,
    db?: Database,
  ): Promise<number> {
    return runInBackground(chain, input, {
      user: who,
      session: session ?? `s-${who.username}`,
      db: db ?? fresh.handle.db,
    });
  }
  const harness = {
    gates,
    get bo(): Person {
      return people.bo;
    },
    get steve(): Person {
      return people.steve;
    },
    get fresh(): FreshDatabase {
      return fresh;
    },
    get handle(): DatabaseHandle {
      return fresh.handle;
    },
    get db(): Database {
      return fresh.handle.db;
    },
    startHost,
    claimedTwiceMore,
    rows,
    statuses,
    enqueue,
  };

  beforeAll(async () => {
    fresh = await freshDatabase(prefix);
    const all = await fresh.handle.db.select({ id: users.id, username: users.username }).from(users);
    people.bo = all.find((u) => u.username === "bo")!;
    people.steve = all.find((u) => u.username === "steve")!;
  });

  afterEach(async () => {
    gates.reset();
    await Promise.all(hosts.splice(0).map((host) => host.stop(1_000)));
    gates.reset();
    await fresh.handle.db.delete(executions);
    await fresh.handle.db.delete(executionSettings);
  });

  afterAll(() => fresh.drop());

  return harness;
}
