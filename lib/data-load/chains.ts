import "server-only";
import { z } from "zod";
import { defineChain } from "@/lib/chains";
import { ChainAbortedError, errorMessage } from "@/lib/chains/errors";
import { sendPushNotification } from "@/lib/push/send";
import { LoadFileError, openCsvStream, readSalesCsv } from "./parse";
import { finishDataLoad, LOAD_DATA_CHAIN, storeBatch } from "./queries";
import type { SalesRow } from "./rules";

/** Rows inserted per statement (and per progress report). */
export const BATCH_SIZE = 500;

const loadInput = z.object({
  loadId: z.number().int().positive(),
  rowsProcessed: z.number().int().min(0).optional(),
  rowsLoaded: z.number().int().min(0).optional(),
  rowsRejected: z.number().int().min(0).optional(),
});
export type LoadDataState = z.infer<typeof loadInput>;

const count = (n: number) => n.toLocaleString("en-US");
const processedMessage = (n: number) => `${count(n)} ${n === 1 ? "row" : "rows"} processed`;

/** The push that tells the starter how the load ended; a tap opens the data load page. */
export function loadNotice(outcome: { rowsLoaded: number; rowsRejected: number } | { error: string }) {
  if ("error" in outcome) {
    return outcome.error === "Aborted"
      ? { title: "Sales data load aborted", body: "The load was aborted; rows loaded so far are kept." }
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
          const [file] = await ctx.files();
          if (!file) throw new LoadFileError("The uploaded file is missing from this execution.");
          const { stream, csvName } = await openCsvStream(file);
          ctx.setStatus(`Reading ${csvName}`);
          ctx.setProgress(0);
          let rows: SalesRow[] = [];
          let rejects: { line: number; raw: string; reason: string }[] = [];
          const flush = async () => {
            await storeBatch({ loadId: state.loadId, rows, rejects }, ctx.db);
            processed += rows.length + rejects.length;
            rows = [];
            rejects = [];
            ctx.setProgress(processed);
            ctx.setStatus(processedMessage(processed));
          };
          try {
            for await (const item of readSalesCsv(stream)) {
              if ("row" in item) rows.push(item.row);
              else rejects.push(item);
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
          const failure = error instanceof ChainAbortedError ? "Aborted" : errorMessage(error);
          // Record the failure and notify the starter in one transaction.
          const result = await ctx.db.transaction(async (tx) => {
            const finished = await finishDataLoad({ loadId: state.loadId, error: failure }, tx);
            await sendPushNotification(
              { userName: ctx.user.username, ...loadNotice({ error: failure }), targetUrl: "/data-load" },
              tx,
            );
            return finished;
          });
          Object.assign(state, result, { rowsProcessed: processed });
          throw error;
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
