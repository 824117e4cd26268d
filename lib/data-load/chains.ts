import "server-only";
import { z } from "zod";
import { ChainAbortedError, defineChain, errorMessage } from "@/lib/chains";
import { LoadFileError, openCsvStream, readSalesCsv } from "./parse";
import { finishDataLoad, LOAD_DATA_CHAIN, storeBatch } from "./queries";
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

const processedMessage = (n: number) => `${n.toLocaleString("en-US")} rows processed`;

/**
 * Load Data Background: unpack the upload (a CSV, or the CSV inside a ZIP) → parse it as a stream →
 * insert in batches with "N rows processed" progress, rejected rows stored with their reasons → report.
 * One at a time per session, at most one waiting or running, and the upload is moved into the execution.
 */
export const loadDataBackground = defineChain<LoadDataState>({
  name: LOAD_DATA_CHAIN,
  title: (input) =>
    input.fileName ? `Load sales data from ${input.fileName}` : `Load sales data (load ${input.loadId})`,
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
          const result = await finishDataLoad(
            {
              loadId: state.loadId,
              error: error instanceof ChainAbortedError ? "Aborted" : errorMessage(error),
            },
            ctx.db,
          );
          Object.assign(state, result, { rowsProcessed: processed });
          throw error;
        }
        state.rowsProcessed = processed;
      },
    },
    {
      name: "Report loaded and rejected rows",
      async run(ctx) {
        const { rowsLoaded, rowsRejected } = await finishDataLoad({ loadId: ctx.state.loadId }, ctx.db);
        Object.assign(ctx.state, { rowsLoaded, rowsRejected });
        const processed = rowsLoaded + rowsRejected;
        ctx.setProgress(processed);
        ctx.setStatus(
          `${processedMessage(processed)}: ${rowsLoaded.toLocaleString("en-US")} loaded, ${rowsRejected.toLocaleString("en-US")} rejected`,
        );
      },
    },
  ],
});
