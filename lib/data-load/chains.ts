import "server-only";
import { z } from "zod";
import { ChainAbortedError, defineChain } from "@/lib/chains";
import { sendPushNotification } from "@/lib/push/send";
import { LoadFileError, openCsvStream, readSalesCsv } from "./parse";
import {
  finishDataLoad,
  LOAD_DATA_CHAIN,
  removeLoadedRows,
  storeBatch,
  sweepAbandonedLoads,
} from "./queries";
import type { SalesRow } from "./rules";

/** Rows inserted per statement (and per progress report). */
export const BATCH_SIZE = 500;

const loadInput = z.object({
  loadId: z.number().int().positive(),
  /** The uploaded file's name, for the title people see ("Load sales data from sales-10000.zip"). */
  fileName: z.string().max(255).optional(),
  rowsProcessed: z.number().int().min(0).optional(),
  rowsLoaded: z.number().int().min(0).optional(),
  rowsRejected: z.number().int().min(0).optional(),
});
export type LoadDataState = z.infer<typeof loadInput>;

/** What users read when a load failed for a reason of the server's (details in the log). */
export const LOAD_FAILED =
  "The file could not be loaded because of a server problem; nothing of it was kept. Try again.";

const count = (n: number) => n.toLocaleString("en-US");
const processedMessage = (n: number) => `${count(n)} ${n === 1 ? "row" : "rows"} processed`;

/** The push that tells the starter how the load ended; a tap opens the data load page. */
export function loadNotice(outcome: { rowsLoaded: number; rowsRejected: number } | { error: string }) {
  if ("error" in outcome) {
    return outcome.error === "Aborted"
      ? { title: "Sales data load aborted", body: "The load was aborted; nothing of it was kept." }
      : { title: "Sales data load failed", body: outcome.error.slice(0, 300) };
  }
  const rows = `${count(outcome.rowsLoaded)} ${outcome.rowsLoaded === 1 ? "row" : "rows"}`;
  return {
    title: `Sales data loaded: ${rows}`,
    body:
      outcome.rowsRejected > 0
        ? `${count(outcome.rowsRejected)} rejected: see the reasons on the Data Load page.`
        : "Every row was loaded.",
  };
}

/**
 * Load Data Background: unpack the upload (a CSV, or the CSV inside a ZIP) → parse it as a stream →
 * insert in batches with "N rows processed" progress, rejected rows stored with their reasons → report.
 * One at a time per session, at most one waiting or running, and the upload is moved into the execution.
 */
export const loadDataBackground = defineChain<LoadDataState>({
  name: LOAD_DATA_CHAIN,
  title: (input) =>
    input.fileName ? `Load sales data from ${input.fileName}` : `Load sales data (load ${input.loadId})`,
  label: "Load sales data in the background",
  schema: loadInput,
  serialize: true,
  executionsLimit: 1,
  fileHandling: "move",
  steps: [
    {
      name: "Unpack, parse and load the rows",
      async run(ctx) {
        const { state } = ctx;
        let processed = 0;
        try {
          // A rerun (its worker died) starts over; loads abandoned by dead workers are cleaned up.
          await sweepAbandonedLoads(ctx.db);
          await removeLoadedRows({ loadId: state.loadId }, ctx.db);
          const [file] = await ctx.files();
          if (!file) throw new LoadFileError("The uploaded file is missing from this execution.");
          const { stream, csvName } = await openCsvStream(file);
          ctx.setStatus(`Reading ${csvName}`);
          ctx.setProgress(0);
          let rows: SalesRow[] = [];
          let lines: { line: number; raw: string }[] = [];
          let rejects: { line: number; raw: string; reason: string }[] = [];
          const flush = async () => {
            await storeBatch({ loadId: state.loadId, rows, rejects, lines }, ctx.db);
            processed += rows.length + rejects.length;
            rows = [];
            lines = [];
            rejects = [];
            ctx.setProgress(processed);
            ctx.setStatus(processedMessage(processed));
          };
          try {
            for await (const item of readSalesCsv(stream)) {
              if ("row" in item) {
                rows.push(item.row);
                lines.push({ line: item.line, raw: item.raw });
              } else rejects.push(item);
              if (rows.length + rejects.length >= BATCH_SIZE) {
                ctx.throwIfAborted();
                await flush();
              }
            }
            ctx.throwIfAborted();
            await flush();
          } finally {
            stream.destroy();
          }
        } catch (error) {
          // All or nothing: a failed or aborted load keeps none of its rows. Users read a plain
          // sentence; driver or SQL text goes to the log only.
          const aborted = error instanceof ChainAbortedError;
          const known = error instanceof LoadFileError;
          if (!aborted && !known) console.error(`[data-load] load ${state.loadId} failed`, error);
          const message = aborted ? "Aborted" : known ? error.message : LOAD_FAILED;
          await removeLoadedRows({ loadId: state.loadId }, ctx.db).catch((cleanup) =>
            console.error(`[data-load] load ${state.loadId}: removing its rows failed`, cleanup),
          );
          // Record the failure and notify the starter in one transaction.
          const result = await ctx.db
            .transaction(async (tx) => {
              const finished = await finishDataLoad({ loadId: state.loadId, error: message }, tx);
              await sendPushNotification(
                { userName: ctx.user.username, ...loadNotice({ error: message }), targetUrl: "/data-load" },
                tx,
              );
              return finished;
            })
            .catch((failure) => {
              console.error(`[data-load] load ${state.loadId}: recording the failure failed`, failure);
              return null;
            });
          Object.assign(state, result ?? {}, { rowsProcessed: processed });
          throw aborted || known ? error : new LoadFileError(LOAD_FAILED);
        }
        state.rowsProcessed = processed;
      },
    },
    {
      name: "Report loaded and rejected rows",
      async run(ctx) {
        // Finish the load and notify the starter in one transaction: no push for a load left unfinished.
        const { rowsLoaded, rowsRejected } = await ctx.db.transaction(async (tx) => {
          const finished = await finishDataLoad({ loadId: ctx.state.loadId }, tx);
          await sendPushNotification(
            { userName: ctx.user.username, ...loadNotice(finished), targetUrl: "/data-load" },
            tx,
          );
          return finished;
        });
        Object.assign(ctx.state, { rowsLoaded, rowsRejected });
        const processed = rowsLoaded + rowsRejected;
        ctx.setProgress(processed);
        ctx.setStatus(
          `${processedMessage(processed)}: ${count(rowsLoaded)} loaded, ${count(rowsRejected)} rejected`,
        );
      },
    },
  ],
});
