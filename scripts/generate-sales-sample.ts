// Writes the data-load demo's sample: public/samples/sales-10000.zip (10,000 generated sales rows).
// Run: npx tsx scripts/generate-sales-sample.ts [rows] [output]
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { generateSalesCsv, zipFiles } from "../lib/data-load/sample";

const rows = Number(process.argv[2] ?? 10_000);
const output = process.argv[3] ?? path.join(import.meta.dirname, "../public/samples/sales-10000.zip");
const zip = await zipFiles([{ name: `sales-${rows}.csv`, content: generateSalesCsv(rows) }]);
await writeFile(output, zip);
console.log(`${output}: ${rows} rows, ${zip.byteLength} bytes`);
