import "server-only";
import { readFile, rm } from "node:fs/promises";
import { and, eq, inArray, sql } from "drizzle-orm";
import { Batcher, batcherPerHandle } from "@/db/batch";
import { EXECUTIONS_CHANNEL } from "@/db/channels";
import { type Executor, getDb, queryRows } from "@/db/client";
import { executionFiles, executions } from "@/db/schema";
import { type Chain, type ChainUser, getChain, maxAttemptsOf, serializeKeyOf, titleOf } from "./define";
import { ChainBusyError, ChainInputError, ExecutionLimitError } from "./errors";
import { snapshotInput } from "./snapshot";
import { activeExecutionStatuses } from "./statuses";

/** Namespace of the advisory locks that make the per-session executions limit race-free. */
const LIMIT_LOCK_NAMESPACE = 72_310_003;
/** Namespace of the advisory locks that make `whenRunning: "error"` race-free per serialize scope. */
const BUSY_LOCK_NAMESPACE = 72_310_004;

/** An uploaded file handed to a background chain: a temporary file on disk, or its bytes. */
export interface UploadedFile {
  name: string;
  contentType?: string;
  /** A temporary file; "move" deletes it once the execution holds a copy. */
  path?: string;
  data?: Uint8Array;
}

export interface BackgroundOptions {
  user: ChainUser;
  /** The caller's session: serialize and executionsLimit count per session. */
  session?: string | null;
  file?: UploadedFile;
  /** Set when a running execution starts a child chain. */
  parentId?: number;
  /** A parent execution whose files the child gets copies of (when the child's fileHandling is not "ignore"). */
  filesFrom?: number;
  /** Run no earlier than this time: the execution waits SCHEDULED until then. */
  runAt?: Date;
  /** Run no earlier than this many milliseconds from now (instead of runAt). */
  delayMs?: number;
  /**
   * Deduplication: while an execution of this chain with this key is waiting or running, enqueueing again
   * returns its id instead of adding one. With keyMode "replace", a waiting (never started) one gets the
   * new input instead.
   */
  key?: string;
  keyMode?: "dedupe" | "replace";
  /** Higher runs first among eligible executions (-1000 … 1000, default 0). */
  priority?: number;
  db?: Executor;
}

const MAX_DELAY_MS = 366 * 24 * 60 * 60 * 1000;

/** Milliseconds from now until the requested run time (0: at once); a clear error for nonsense. */
function delayOf(chainName: string, { runAt, delayMs }: BackgroundOptions): number {
  if (runAt !== undefined && delayMs !== undefined) {
    throw new ChainInputError(chainName, ["give runAt or delayMs, not both"]);
  }
  const delay = runAt !== undefined ? runAt.getTime() - Date.now() : (delayMs ?? 0);
  if (!Number.isFinite(delay)) throw new ChainInputError(chainName, ["runAt must be a valid date"]);
  if (delayMs !== undefined && delayMs < 0)
    throw new ChainInputError(chainName, ["delayMs must not be negative"]);
  if (delay > MAX_DELAY_MS) throw new ChainInputError(chainName, ["runs can be delayed by a year at most"]);
  return Math.max(0, Math.round(delay));
}

/**
 * Stores an execution of `chain` and returns its id at once; a worker runs it. The state is a snapshot of
 * `input`, so whatever the user does next cannot change it. Inside the caller's transaction `tx` when
 * given: nothing is queued, and no worker is woken, unless it commits.
 */
export async function runInBackground<S extends object>(
  chain: Chain<S>,
  input: S,
  options: BackgroundOptions,
  tx?: Executor,
): Promise<number> {
  if (!getChain(chain.name)) {
    throw new Error(`Chain "${chain.name}" is not registered; define it with defineChain()`);
  }
  const state = snapshotInput(chain, input);
  const delay = delayOf(chain.name, options);
  const { key, priority = 0 } = options;
  if (key !== undefined && (typeof key !== "string" || key.length === 0 || key.length > 200)) {
    throw new ChainInputError(chain.name, ["key must be 1 to 200 characters"]);
  }
  if (!Number.isInteger(priority) || priority < -1000 || priority > 1000) {
    throw new ChainInputError(chain.name, ["priority must be a whole number from -1000 to 1000"]);
  }
  const replace = options.keyMode === "replace";
  const userId = options.user.id > 0 ? options.user.id : null; // SYSTEM_USER: stored without a user
  const session = options.session || (userId ? `user:${userId}` : "system");
  const serializeKey = serializeKeyOf(chain, state, session);
  const refuseWhenBusy = serializeKey !== null && chain.whenRunning === "error";
  const fileHandling = chain.fileHandling ?? "ignore";
  const file = options.file && fileHandling !== "ignore" ? options.file : undefined;
  const content = file ? await fileContent(file) : undefined;

  // A lone INSERT is atomic by itself (and shares a statement with other callers' at the same time); the
  // limit's and the busy check's locks and a file's second row need a transaction.
  const inheritFiles = options.filesFrom !== undefined && fileHandling !== "ignore" && !file;
  const needsTransaction = Boolean(
    chain.executionsLimit || refuseWhenBusy || (file && content) || inheritFiles,
  );

  /** The waiting or running execution with this chain and key (after replacing its input, if asked). */
  const existing = async (ex: Executor): Promise<number | null> => {
    if (key === undefined) return null;
    const [row] = await queryRows<{ id: number }>(
      ex,
      replace
        ? sql`with found as (
                select id, status, attempt from executions
                where chain_name = ${chain.name} and key = ${key} and status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')),
              replaced as (
                update executions e set input = ${JSON.stringify(state)}::jsonb, title = ${titleOf(chain, state)},
                  updated_at = clock_timestamp()
                from found f where e.id = f.id and f.attempt = 0 and f.status in ('ENQUEUED', 'SCHEDULED'))
              select id from found`
        : sql`select id from executions
              where chain_name = ${chain.name} and key = ${key} and status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')`,
    );
    return row ? Number(row.id) : null;
  };

  const row: NewExecution = {
    chain_name: chain.name,
    title: titleOf(chain, state),
    user_id: userId,
    session_id: session,
    parent_id: options.parentId ?? null,
    input: state,
    serialize: serializeKey !== null,
    serialize_key: serializeKey,
    max_concurrent: chain.maxConcurrent ?? null,
    max_per_user: chain.maxConcurrentPerUser ?? null,
    max_attempts: maxAttemptsOf(chain),
    delay_ms: delay,
    key: key ?? null,
    priority,
  };
  const db = options.db ?? getDb();

  const enqueue = async (ex: Executor): Promise<number> => {
    const found = await existing(ex);
    if (found !== null) return found;
    if (refuseWhenBusy) {
      // One enqueuer per scope at a time (until commit), so two racing callers cannot both see it free.
      await ex.execute(
        sql`select pg_advisory_xact_lock(${BUSY_LOCK_NAMESPACE}, hashtext(${`${chain.name}\u0001${serializeKey}`}))`,
      );
      const [holder] = await queryRows<{ id: number; status: string; title: string; username: string }>(
        ex,
        sql`select e.id, e.status::text as status, e.title, coalesce(u.username, 'system') as username
            from executions e left join users u on u.id = e.user_id
            where e.chain_name = ${chain.name} and e.serialize_key = ${serializeKey}
              and e.status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')
            order by e.id limit 1`,
      );
      if (holder) {
        throw new ChainBusyError(
          chain.name,
          Number(holder.id),
          holder.username,
          holder.status as ChainBusyError["status"],
          holder.title || chain.name,
        );
      }
    }
    if (chain.executionsLimit) {
      await ex.execute(
        sql`select pg_advisory_xact_lock(${LIMIT_LOCK_NAMESPACE}, hashtext(${`${chain.name}\u0001${session}`}))`,
      );
      const active = await ex.$count(
        executions,
        and(
          eq(executions.chainName, chain.name),
          eq(executions.sessionId, session),
          inArray(executions.status, [...activeExecutionStatuses]),
        ),
      );
      if (active >= chain.executionsLimit) throw new ExecutionLimitError(chain.name, chain.executionsLimit);
    }
    // A keyed row goes on its own: its INSERT can wait for another transaction holding the same key, and
    // must not hold up everyone else's enqueues while it does.
    const id = await insertExecution(ex, row, { batch: ex === db && !needsTransaction && key === undefined });
    if (id === null) {
      // A racing enqueue with the same key won: take its execution.
      const raced = await existing(ex);
      if (raced === null) throw new Error("insert returned no row");
      return raced;
    }
    if (file && content) {
      await ex.insert(executionFiles).values({
        executionId: id,
        name: file.name,
        contentType: file.contentType || "application/octet-stream",
        size: content.byteLength,
        content,
      });
    }
    if (inheritFiles) {
      await ex.execute(
        sql`insert into execution_files (execution_id, name, content_type, size, content)
            select ${id}, name, content_type, size, content from execution_files
            where execution_id = ${options.filesFrom} order by id`,
      );
    }
    return id;
  };

  const id = tx
    ? await enqueue(tx)
    : needsTransaction
      ? await db.transaction((own) => enqueue(own))
      : await enqueue(db);
  if (file?.path && fileHandling === "move") await rm(file.path, { force: true });
  return id;
}

async function fileContent(file: UploadedFile): Promise<Buffer> {
  if (file.data) return Buffer.from(file.data);
  if (file.path) return readFile(file.path);
  throw new Error(`Uploaded file "${file.name}" has neither data nor a path`);
}

/** An executions row as the enqueue writes it (the columns, by name). */
interface NewExecution {
  chain_name: string;
  title: string;
  user_id: number | null;
  session_id: string;
  parent_id: number | null;
  input: object;
  serialize: boolean;
  serialize_key: string | null;
  max_concurrent: number | null;
  max_per_user: number | null;
  max_attempts: number;
  /** 0: ENQUEUED now; more: SCHEDULED that many milliseconds from now. */
  delay_ms: number;
  key: string | null;
  priority: number;
}

/**
 * Inserts executions and wakes the workers in one statement (the NOTIFY goes out when it commits; one per
 * statement, however many rows). Ids are drawn first, so each row's id is known even when a racing
 * enqueue with the same key made it skip (null).
 */
async function insertExecutions(ex: Executor, rows: NewExecution[]): Promise<(number | null)[]> {
  const inserted = await queryRows<{ n: number; id: number | null }>(
    ex,
    sql`
    with input as materialized (
      select i.*, nextval(pg_get_serial_sequence('executions', 'id'))::int as new_id
      from jsonb_to_recordset(${JSON.stringify(rows.map((row, n) => ({ ...row, n })))}::jsonb) as i(
        n int, chain_name text, title text, user_id int, session_id text, parent_id int, input jsonb,
        serialize boolean, serialize_key text, max_concurrent int, max_per_user int, max_attempts int,
        delay_ms float8, key text, priority int)),
    created as (
      insert into executions (id, chain_name, title, user_id, session_id, parent_id, input, serialize,
        serialize_key, max_concurrent, max_per_user, max_attempts, status, run_at, key, priority)
      overriding system value
      select new_id, chain_name, title, user_id, session_id, parent_id, input, serialize, serialize_key,
        max_concurrent, max_per_user, max_attempts,
        (case when delay_ms > 0 then 'SCHEDULED' else 'ENQUEUED' end)::execution_status,
        case when delay_ms > 0 then clock_timestamp() + make_interval(secs => delay_ms / 1000) end,
        key, priority
      from input order by n
      -- A racing enqueue with the same key won: that row is skipped (the caller takes the winner's).
      on conflict (chain_name, key) where key is not null and status in ('ENQUEUED', 'SCHEDULED', 'EXECUTING')
      do nothing
      returning id),
    woken as (select pg_notify(${EXECUTIONS_CHANNEL}, '') where exists (select 1 from created))
    select i.n, c.id, (select count(*) from woken) as notified
    from input i left join created c on c.id = i.new_id order by i.n`,
    { prepared: true },
  );
  return inserted.map((row) => (row.id === null ? null : Number(row.id)));
}

/**
 * Enqueues made outside a transaction at the same time share one INSERT (and one commit). One statement at
 * a time: its commit NOTIFYs, and PostgreSQL serializes notifying commits anyway, so a second one in flight
 * would only make the groups smaller (5,000 enqueues by 16 callers: 0.85–0.95 s instead of 1.5–1.6 s).
 */
const insertBatcherFor = batcherPerHandle(
  (db: Executor) =>
    new Batcher<NewExecution, number | null>((rows) => insertExecutions(db, rows), {
      maxItems: 256,
      maxInFlight: 1,
    }),
);

function insertExecution(ex: Executor, row: NewExecution, { batch }: { batch: boolean }) {
  return batch ? insertBatcherFor(ex).add(row) : insertExecutions(ex, [row]).then(([id]) => id ?? null);
}
