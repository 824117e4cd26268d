import yazl from "yazl";
import { SALES_COLUMNS } from "./rules";

const REGIONS: Record<string, string[]> = {
  Europe: ["Germany", "France", "Norway", "Portugal", "Poland"],
  Asia: ["Japan", "India", "Vietnam", "Mongolia"],
  "Sub-Saharan Africa": ["Kenya", "Ghana", "Namibia", "Senegal"],
  "North America": ["Canada", "Mexico", "United States of America"],
  "Australia and Oceania": ["Australia", "Fiji", "Samoa"],
  "Middle East and North Africa": ["Egypt", "Morocco", "Oman"],
  "Central America and the Caribbean": ["Panama", "Jamaica", "Belize"],
};
const ITEMS: [string, number, number][] = [
  ["Baby Food", 255.28, 159.42],
  ["Beverages", 47.45, 31.79],
  ["Cereal", 205.7, 117.11],
  ["Clothes", 109.28, 35.84],
  ["Cosmetics", 437.2, 263.33],
  ["Fruits", 9.33, 6.92],
  ["Household", 668.27, 502.54],
  ["Meat", 421.89, 364.69],
  ["Office Supplies", 651.21, 524.96],
  ["Personal Care", 81.73, 56.67],
  ["Snacks", 152.58, 97.44],
  ["Vegetables", 154.06, 90.93],
];
const PRIORITIES = ["H", "M", "L", "C"];

/** A small deterministic generator, so the sample is the same on every machine. */
function random(seed: number) {
  let value = seed >>> 0;
  return () => {
    value = (value * 1_664_525 + 1_013_904_223) >>> 0;
    return value / 2 ** 32;
  };
}

/** `rows` generated sales rows as CSV text (header first). */
export function generateSalesCsv(rows: number, seed = 42): string {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const lines = [SALES_COLUMNS.join(",")];
  const regions = Object.keys(REGIONS);
  for (let index = 0; index < rows; index++) {
    const region = pick(regions);
    const country = pick(REGIONS[region] ?? ["Unknown"]);
    const [item, price, cost] = pick(ITEMS);
    const units = 1 + Math.floor(next() * 9_999);
    const profit = Math.round(units * (price - cost) * 100) / 100;
    lines.push(
      [
        region,
        country,
        item,
        next() < 0.5 ? "Online" : "Offline",
        pick(PRIORITIES),
        units,
        price.toFixed(2),
        cost.toFixed(2),
        profit.toFixed(2),
      ]
        .map((value) => (String(value).includes(",") ? `"${value}"` : String(value)))
        .join(","),
    );
  }
  return `${lines.join("\n")}\n`;
}

/** A ZIP holding the given files (deflated). */
export function zipFiles(files: { name: string; content: string | Buffer }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const file of files) {
    // A fixed date keeps the generated sample byte-for-byte the same.
    zip.addBuffer(typeof file.content === "string" ? Buffer.from(file.content) : file.content, file.name, {
      mtime: new Date("2024-01-01T00:00:00Z"),
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("end", () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on("error", reject);
  });
}
