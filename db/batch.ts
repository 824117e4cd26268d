/**
 * Group commit for statements made at the same time: calls that arrive while `maxInFlight` statements are
 * already running wait and go together in the next one (up to `maxItems`), so a burst of callers costs a
 * few round trips and commits instead of one each. Each caller still gets its own result once its rows are
 * written; when the shared statement fails, each item is written again on its own, so a caller gets its own
 * error and the others their results. A lone call goes at once, so latency does not change.
 */
export class Batcher<Item, Result> {
  private pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  private inFlight = 0;

  constructor(
    /** Writes the items in one statement; returns one result per item, in order. */
    private readonly write: (items: Item[]) => Promise<Result[]>,
    private readonly options: { maxItems: number; maxInFlight: number },
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    if (this.inFlight >= this.options.maxInFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.options.maxItems);
    this.inFlight += 1;
    // Whether the event loop turns while the statement runs: it does when the statement goes through a
    // socket (postgres.js), not when the database runs in this process (PGlite answers with promises only).
    let turned = false;
    setImmediate(() => {
      turned = true;
    });
    this.write(batch.map((entry) => entry.item))
      .then((results) => {
        for (const [i, entry] of batch.entries()) entry.resolve(results[i] as Result);
      })
      .catch(async (error: unknown) => {
        if (batch.length === 1) {
          batch[0]?.reject(error);
          return;
        }
        // One bad item (a row the database refuses) must not fail the others: each goes again on its own,
        // so every caller gets its own result or its own error.
        await Promise.all(
          batch.map((entry) =>
            this.write([entry.item]).then(
              ([result]) => entry.resolve(result as Result),
              (own: unknown) => entry.reject(own),
            ),
          ),
        );
      })
      .finally(() => {
        // The callers just answered usually call again at once, a few awaits later: the slot is given back
        // only after those microtasks ran (a tick runs once the microtask queue is empty), so their items
        // join the next statement instead of the first of them going alone (16 callers made groups of 1 and
        // 16 by turns before). Not later: waiting for the event loop's check phase (setImmediate) put a
        // whole turn of a busy process's other work (a push sender's encryptions) before every statement.
        // Unless the loop never turned meanwhile: a stream of callers on PGlite would then hold up every
        // timer, socket and NOTIFY of the process for as long as it lasts.
        const giveBack = () => {
          this.inFlight -= 1;
          this.flush();
        };
        if (turned) process.nextTick(giveBack);
        else setImmediate(giveBack);
      });
  }
}

/**
 * One batcher per database handle (and purpose): the same handle's concurrent callers share statements;
 * different handles (tests, benchmarks, worker processes) never mix.
 */
export function batcherPerHandle<Handle extends object, Item, Result>(
  make: (handle: Handle) => Batcher<Item, Result>,
): (handle: Handle) => Batcher<Item, Result> {
  const batchers = new WeakMap<Handle, Batcher<Item, Result>>();
  return (handle) => {
    let batcher = batchers.get(handle);
    if (!batcher) {
      batcher = make(handle);
      batchers.set(handle, batcher);
    }
    return batcher;
  };
}
