import { Readable } from "node:stream";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatabaseHandle } from "@/db/client";
import { dataLoads, type Execution, executionFiles, executions, users } from "@/db/schema";
import { ExecutionLimitError, executionsConsumer } from "@/lib/chains";
import { checkUpload, inspectZip, LoadFileError, openCsvStream, readSalesCsv } from "@/lib/data-load/parse";
import {
  clearSales,
  countSalesOfLoad,
  getSalesPage,
  listDataLoads,
  listRejects,
} from "@/lib/data-load/queries";
import { MAX_UNCOMPRESSED_BYTES, MAX_UPLOAD_BYTES, SALES_COLUMNS } from "@/lib/data-load/rules";
import { generateSalesCsv, zipFiles } from "@/lib/data-load/sample";
import { submitDataLoad } from "@/lib/data-load/submit";
import { WorkerHost } from "@/lib/worker/host";
import { type FreshDatabase, freshDatabase, waitFor } from "./support/fresh-database";

const quiet = { info: () => {}, error: () => {} };
const HEADER = SALES_COLUMNS.join(",");
const BAD_CSV = [
  HEADER,
  "Europe,Germany,Cereal,Online,H,100,205.70,117.11,8859.00",
  "Europe,France,Cereal,Somewhere,H,100,205.70,117.11,8859.00",
  "Asia,Japan,Snacks,Offline,M,many,152.58,97.44,5514.00",
  "Asia,India,Snacks,Offline,M,10,152.58",
  'Asia,"Viet,nam",Snacks,Offline,L,10,152.58,97.44,551.40',
  "Asia,Mongolia,Fruits,Online,C,3,9.33,6.92,-7.23",
  "",
].join("\n");

async function collect(csv: string) {
  const items = [];
  for await (const item of readSalesCsv(Readable.from([Buffer.from(csv)]))) items.push(item);
  return items;
}

describe("data load: checking and parsing", () => {
  it("refuses other file types, empty and over-size files with clear messages", () => {
    expect(checkUpload("photo.png", Buffer.from("x"))).toEqual({
      ok: false,
      error: '"photo.png" is not a CSV or ZIP file. Upload a .csv file, or a .zip holding one.',
    });
    expect(checkUpload("sales.csv", Buffer.alloc(0))).toEqual({ ok: false, error: '"sales.csv" is empty.' });
    const big = checkUpload("big.csv", Buffer.alloc(MAX_UPLOAD_BYTES + 1, 0x41));
    expect(big.ok ? "" : big.error).toBe('"big.csv" is 8.0 MB; files up to 8 MB can be loaded.');
    expect(checkUpload("fake.zip", Buffer.from("hello"))).toEqual({
      ok: false,
      error: '"fake.zip" is not a valid ZIP file.',
    });
    expect(checkUpload("binary.csv", Buffer.from([1, 0, 2]))).toEqual({
      ok: false,
      error: '"binary.csv" is not a CSV text file.',
    });
    expect(checkUpload("SALES.CSV", Buffer.from(HEADER))).toEqual({ ok: true, kind: "csv" });
  });

  it("parses rows and reports each bad row with its line and reason", async () => {
    const items = await collect(BAD_CSV);
    expect(items.filter((item) => "row" in item)).toHaveLength(3);
    const rejects = items.filter((item) => "reason" in item);
    expect(rejects.map((item) => item.line)).toEqual([3, 4, 5]);
    expect(rejects[0]).toMatchObject({
      reason: 'Sales Channel must be Online or Offline (found "Somewhere")',
    });
    expect(rejects[1]).toMatchObject({ reason: 'Units Sold is not a whole number (found "many")' });
    expect(rejects[2]).toMatchObject({
      reason: "Has 7 fields; 9 are expected",
      raw: "Asia,India,Snacks,Offline,M,10,152.58",
    });
    const mongolia = items.find((item) => "row" in item && item.row.country === "Mongolia");
    expect(mongolia && "row" in mongolia ? mongolia.row.totalProfitCents : 0).toBe(-723);
  });

  it("refuses a file without the sales columns as a whole", async () => {
    await expect(collect("Name,Age\nBo,3\n")).rejects.toThrow(/missing: Region, Country/);
    await expect(collect("")).rejects.toThrow(LoadFileError);
  });

  it("refuses a ZIP bomb, a ZIP without CSV and a ZIP with several", async () => {
    const bomb = await zipFiles([
      { name: "bomb.csv", content: Buffer.alloc(MAX_UNCOMPRESSED_BYTES + 1024, 0x41) },
    ]);
    expect(bomb.byteLength).toBeLessThan(200_000);
    await expect(inspectZip(bomb)).rejects.toThrow("The ZIP file unpacks to more than 64 MB; it is refused.");
    await expect(inspectZip(await zipFiles([{ name: "notes.txt", content: "x" }]))).rejects.toThrow(
      "The ZIP file holds no .csv file.",
    );
    await expect(
      inspectZip(
        await zipFiles([
          { name: "a.csv", content: HEADER },
          { name: "b.csv", content: HEADER },
        ]),
      ),
    ).rejects.toThrow("The ZIP file holds 2 .csv files; put exactly one in it.");
  });

  it("reads a ZIP stored as a plain Uint8Array, as PGlite returns bytea", async () => {
    const zip = await zipFiles([{ name: "sales.csv", content: `${BAD_CSV}` }]);
    const plain = new Uint8Array(zip.byteLength);
    plain.set(zip);
    expect(Buffer.isBuffer(plain)).toBe(false);
    const { stream, csvName } = await openCsvStream({ name: "sales.zip", content: plain });
    expect(csvName).toBe("sales.csv");
    const items = [];
    for await (const item of readSalesCsv(stream)) items.push(item);
    expect(items.filter((item) => "row" in item)).toHaveLength(3);
  });
});

describe("data load in the background (PostgreSQL)", () => {
  let fresh: FreshDatabase;
  let handle: DatabaseHandle;
  let host: WorkerHost;
  let bo: { id: number; username: string };
  let steve: { id: number; username: string };

  beforeAll(async () => {
    fresh = await freshDatabase("demos_data_load");
    handle = fresh.handle;
    const all = await handle.db.select().from(users);
    const find = (name: string) => {
      const user = all.find((candidate) => candidate.username === name);
      if (!user) throw new Error(name);
      return { id: user.id, username: user.username };
    };
    bo = find("bo");
    steve = find("steve");
    host = new WorkerHost(handle, "worker", quiet).register(
      executionsConsumer({ leaseMs: 5_000, pollMs: 100, progressMs: 50 }),
    );
    await host.start();
  });
  afterAll(async () => {
    await host?.stop();
    await fresh?.drop();
  });

  async function execution(id: number): Promise<Execution> {
    const [row] = await handle.db.select().from(executions).where(eq(executions.id, id));
    if (!row) throw new Error(`no execution ${id}`);
    return row;
  }
  const finished = (id: number) =>
    waitFor(
      () => execution(id),
      (row) => ["SUCCESS", "FAILED", "ABORTED"].includes(row.status),
      30_000,
    );
  const submit = (user: typeof bo, name: string, data: Uint8Array) =>
    submitDataLoad({ user, session: `s-${user.username}`, name, data }, handle.db);

  it("loads the 10,000-row sample ZIP in batches with progress, and the CSV too", async () => {
    const csv = generateSalesCsv(10_000);
    const zip = await zipFiles([{ name: "sales-10000.csv", content: csv }]);
    const submitted = await submit(bo, "sales-10000.zip", zip);
    if (!submitted.ok) throw new Error(submitted.error);
    expect(submitted.message).toBe('"sales-10000.zip" submitted for loading.');
    // executionsLimit 1: a second upload while the first is queued or running is refused.
    await expect(submit(bo, "again.zip", zip)).rejects.toThrow(ExecutionLimitError);
    const done = await finished(submitted.executionId);
    expect(done.status).toBe("SUCCESS");
    expect(done.title).toBe("Load sales data from sales-10000.zip");
    expect(done.sofar).toBe(10_000);
    expect(done.statusMessage).toBe("10,000 rows processed: 10,000 loaded, 0 rejected");
    // "move": the file went into the execution, and nothing else holds it.
    expect(
      await handle.db.$count(executionFiles, eq(executionFiles.executionId, submitted.executionId)),
    ).toBe(1);
    expect(await countSalesOfLoad({ loadId: submitted.loadId }, handle.db)).toBe(10_000);

    const plain = await submit(steve, "sales.csv", Buffer.from(generateSalesCsv(1_200, 7)));
    if (!plain.ok) throw new Error(plain.error);
    expect((await finished(plain.executionId)).statusMessage).toBe(
      "1,200 rows processed: 1,200 loaded, 0 rejected",
    );
    const page = await getSalesPage({ page: 2 }, handle.db);
    expect(page).toMatchObject({ total: 11_200, page: 2 });
    expect(page.rows).toHaveLength(15);
  }, 90_000);

  it("stores bad rows with their reasons, and fails a file without the sales columns with a message", async () => {
    const submitted = await submit(steve, "bad-rows.csv", Buffer.from(BAD_CSV));
    if (!submitted.ok) throw new Error(submitted.error);
    const done = await finished(submitted.executionId);
    expect(done.statusMessage).toBe("6 rows processed: 3 loaded, 3 rejected");
    const rejects = await listRejects({ loadId: submitted.loadId }, handle.db);
    expect(rejects.map((reject) => reject.line)).toEqual([3, 4, 5]);
    const [view] = await listDataLoads({ userId: steve.id }, handle.db);
    expect(view).toMatchObject({ id: submitted.loadId, status: "SUCCESS", rowsLoaded: 3, rowsRejected: 3 });
    expect(view?.rejects[0]?.reason).toContain("Sales Channel must be Online or Offline");

    const wrong = await submit(steve, "people.csv", Buffer.from("Name,Age\nBo,3\n"));
    if (!wrong.ok) throw new Error(wrong.error);
    const failed = await finished(wrong.executionId);
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/missing: Region/);
    const [load] = await handle.db.select().from(dataLoads).where(eq(dataLoads.id, wrong.loadId));
    expect(load?.error).toMatch(/missing: Region/);
    expect(load?.finishedAt).not.toBeNull();
  });

  it("refuses wrong types, empty files and zip bombs before queueing anything", async () => {
    const before = await handle.db.$count(executions);
    expect(await submit(bo, "notes.txt", Buffer.from("hello"))).toEqual({
      ok: false,
      error: '"notes.txt" is not a CSV or ZIP file. Upload a .csv file, or a .zip holding one.',
    });
    expect(await submit(bo, "empty.csv", Buffer.alloc(0))).toEqual({
      ok: false,
      error: '"empty.csv" is empty.',
    });
    const bomb = await zipFiles([
      { name: "bomb.csv", content: Buffer.alloc(MAX_UNCOMPRESSED_BYTES + 1, 0x41) },
    ]);
    expect(await submit(bo, "bomb.zip", bomb)).toEqual({
      ok: false,
      error: '"bomb.zip": The ZIP file unpacks to more than 64 MB; it is refused.',
    });
    expect(await handle.db.$count(executions)).toBe(before);
  });

  it("Clear data removes only the user's own loads, everybody's for an administrator", async () => {
    const total = (await getSalesPage({ page: 1 }, handle.db)).total;
    const steves = await clearSales({ userId: steve.id }, handle.db);
    expect(steves).toBeGreaterThan(0);
    expect((await getSalesPage({ page: 1 }, handle.db)).total).toBe(total - steves);
    expect(
      await countSalesOfLoad(
        { loadId: (await listDataLoads({ userId: bo.id }, handle.db))[0]!.id },
        handle.db,
      ),
    ).toBeGreaterThan(0);
    expect(await clearSales({ userId: "all" }, handle.db)).toBeGreaterThan(0);
    expect((await getSalesPage({ page: 1 }, handle.db)).total).toBe(0);
    expect((await listDataLoads({ userId: bo.id }, handle.db))[0]?.rowsLoaded).toBe(10_000);
  });
});
