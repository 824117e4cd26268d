import "server-only";
import { Readable, Transform } from "node:stream";
import { parse } from "csv-parse";
import yauzl from "yauzl";
import {
  ACCEPTED_EXTENSIONS,
  describeIssues,
  formatBytes,
  MAX_UNCOMPRESSED_BYTES,
  MAX_UPLOAD_BYTES,
  SALES_COLUMNS,
  type SalesRow,
  salesRowSchema,
} from "./rules";

/** The whole file cannot be loaded; the message is safe to show the user. */
export class LoadFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LoadFileError";
  }
}

export type UploadKind = "csv" | "zip";

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/** Checks an upload before anything is queued: a CSV or ZIP by name and content, not empty, not too big. */
export function checkUpload(
  name: string,
  bytes: Uint8Array,
): { ok: true; kind: UploadKind } | { ok: false; error: string } {
  const extension = name.toLowerCase().match(/\.[a-z0-9]+$/)?.[0] ?? "";
  if (!(ACCEPTED_EXTENSIONS as readonly string[]).includes(extension)) {
    return {
      ok: false,
      error: `"${name}" is not a CSV or ZIP file. Upload a .csv file, or a .zip holding one.`,
    };
  }
  if (bytes.byteLength === 0) return { ok: false, error: `"${name}" is empty.` };
  if (bytes.byteLength > MAX_UPLOAD_BYTES) {
    return {
      ok: false,
      error: `"${name}" is ${formatBytes(bytes.byteLength)}; files up to ${formatBytes(MAX_UPLOAD_BYTES)} can be loaded.`,
    };
  }
  const isZip = ZIP_MAGIC.every((byte, index) => bytes[index] === byte);
  if (extension === ".zip") {
    return isZip ? { ok: true, kind: "zip" } : { ok: false, error: `"${name}" is not a valid ZIP file.` };
  }
  if (isZip || bytes.subarray(0, 8192).includes(0)) {
    return { ok: false, error: `"${name}" is not a CSV text file.` };
  }
  return { ok: true, kind: "csv" };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function openZip(content: Buffer): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.fromBuffer(
      content,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: false },
      (error, zip) =>
        error || !zip
          ? reject(new LoadFileError(`The ZIP file cannot be read: ${error?.message ?? "unknown error"}`))
          : resolve(zip),
    ),
  );
}

const isCsvEntry = (entry: yauzl.Entry) =>
  !entry.fileName.endsWith("/") && !entry.fileName.startsWith("__MACOSX/") && /\.csv$/i.test(entry.fileName);

/**
 * Finds the one CSV file in a ZIP from its central directory, refusing archives that would unpack to more
 * than MAX_UNCOMPRESSED_BYTES (the declared sizes are also enforced while inflating).
 */
async function findCsvEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry> {
  const found: yauzl.Entry[] = [];
  let total = 0;
  await new Promise<void>((resolve, reject) => {
    zip.on("entry", (entry: yauzl.Entry) => {
      total += entry.uncompressedSize;
      if (total > MAX_UNCOMPRESSED_BYTES) {
        zip.close();
        reject(
          new LoadFileError(
            `The ZIP file unpacks to more than ${formatBytes(MAX_UNCOMPRESSED_BYTES)}; it is refused.`,
          ),
        );
        return;
      }
      if (isCsvEntry(entry)) found.push(entry);
      zip.readEntry();
    });
    zip.on("end", resolve);
    zip.on("error", (error: Error) =>
      reject(new LoadFileError(`The ZIP file cannot be read: ${error.message}`)),
    );
    zip.readEntry();
  });
  if (found.length === 0) throw new LoadFileError("The ZIP file holds no .csv file.");
  if (found.length > 1)
    throw new LoadFileError(`The ZIP file holds ${found.length} .csv files; put exactly one in it.`);
  return found[0] as yauzl.Entry;
}

/** Checks a ZIP upload at once (before it is queued): readable, one CSV, within the unpacked limit. */
export async function inspectZip(content: Buffer): Promise<{ entryName: string; uncompressedSize: number }> {
  const zip = await openZip(content);
  try {
    const entry = await findCsvEntry(zip);
    return { entryName: entry.fileName, uncompressedSize: entry.uncompressedSize };
  } finally {
    zip.close();
  }
}

/** Counts bytes flowing through and fails past `limit`: the zip-bomb guard while inflating. */
function byteLimit(limit: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.byteLength;
      if (seen > limit) {
        callback(
          new LoadFileError(`The ZIP file unpacks to more than ${formatBytes(limit)}; it is refused.`),
        );
      } else callback(null, chunk);
    },
  });
}

/** The CSV text of an upload as a stream: the file itself, or the one CSV inside a ZIP, inflated as read. */
export async function openCsvStream(stored: {
  name: string;
  content: Uint8Array;
}): Promise<{ stream: Readable; csvName: string }> {
  // PGlite returns bytea as a plain Uint8Array; yauzl's reader needs a Buffer (same memory, no copy).
  const file = { name: stored.name, content: asBuffer(stored.content) };
  const checked = checkUpload(file.name, file.content);
  if (!checked.ok) throw new LoadFileError(checked.error);
  if (checked.kind === "csv") return { stream: Readable.from([file.content]), csvName: file.name };
  const zip = await openZip(file.content);
  const entry = await findCsvEntry(zip);
  const raw = await new Promise<Readable>((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) =>
      error || !stream
        ? reject(new LoadFileError(`The ZIP file cannot be read: ${error?.message}`))
        : resolve(stream),
    ),
  );
  const limited = byteLimit(MAX_UNCOMPRESSED_BYTES);
  raw.on("error", (error) =>
    limited.destroy(
      error instanceof LoadFileError
        ? error
        : new LoadFileError(`The ZIP file cannot be read: ${error.message}`),
    ),
  );
  limited.on("close", () => zip.close());
  return { stream: raw.pipe(limited), csvName: entry.fileName };
}

export type CsvItem =
  | { line: number; raw: string; row: SalesRow }
  | { line: number; raw: string; reason: string };

type RowKey = keyof SalesRow;
const KEYS: Record<(typeof SALES_COLUMNS)[number], RowKey> = {
  Region: "region",
  Country: "country",
  "Item Type": "itemType",
  "Sales Channel": "salesChannel",
  "Order Priority": "orderPriority",
  "Units Sold": "unitsSold",
  "Unit Price": "unitPriceCents",
  "Unit Cost": "unitCostCents",
  "Total Profit": "totalProfitCents",
};
const normalise = (value: string) => value.toLowerCase().replace(/[^a-z0-9]/g, "");

function mapHeader(record: string[]): Map<RowKey, number> {
  const positions = new Map(record.map((name, index) => [normalise(name), index]));
  const map = new Map<RowKey, number>();
  const missing: string[] = [];
  for (const column of SALES_COLUMNS) {
    const index = positions.get(normalise(column));
    if (index === undefined) missing.push(column);
    else map.set(KEYS[column], index);
  }
  if (missing.length > 0) {
    throw new LoadFileError(
      `The file's first row must name the columns ${SALES_COLUMNS.join(", ")}; missing: ${missing.join(", ")}.`,
    );
  }
  return map;
}

/**
 * Streams a sales CSV: the first row is the header, then each record is a row ready to insert or a
 * rejection with its line and reason. Malformed CSV records (an unclosed quote, say) are rejected too,
 * and parsing goes on.
 */
export async function* readSalesCsv(source: Readable): AsyncGenerator<CsvItem> {
  const skipped: CsvItem[] = [];
  const parser = parse({
    bom: true,
    skip_empty_lines: true,
    relax_column_count: true,
    info: true,
    raw: true,
    max_record_size: 64 * 1024,
    skip_records_with_error: true,
    on_skip: (error, raw) => {
      skipped.push({
        line: Number(error?.lines ?? 0),
        raw: (raw ?? "").slice(0, 1000),
        reason: `Not valid CSV: ${error?.message ?? "unreadable record"}`,
      });
      return undefined;
    },
  });
  source.on("error", (error) => parser.destroy(error));
  source.pipe(parser);
  let header: Map<RowKey, number> | null = null;
  for await (const item of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
    raw: string;
  }>) {
    while (skipped.length > 0) yield skipped.shift() as CsvItem;
    const { record, info } = item;
    const raw = item.raw.replace(/\r?\n$/, "").slice(0, 1000);
    if (!header) {
      header = mapHeader(record);
      continue;
    }
    const values = {} as Record<RowKey, string>;
    for (const [key, index] of header) values[key] = record[index] ?? "";
    if (record.length < SALES_COLUMNS.length) {
      yield {
        line: info.lines,
        raw,
        reason: `Has ${record.length} fields; ${SALES_COLUMNS.length} are expected`,
      };
      continue;
    }
    const parsed = salesRowSchema.safeParse(values);
    yield parsed.success
      ? { line: info.lines, raw, row: parsed.data }
      : { line: info.lines, raw, reason: describeIssues(parsed.error, values) };
  }
  while (skipped.length > 0) yield skipped.shift() as CsvItem;
  if (!header) throw new LoadFileError("The file has no rows: not even the header.");
}
