import type { Metadata } from "next";
import Link from "next/link";
import { DataLoadView } from "@/components/data-load/data-load-view";
import { plural } from "@/components/ui/format";
import { Notice } from "@/components/ui/notice";
import { ScrollRegion } from "@/components/ui/scroll-region";
import { requireUser } from "@/lib/auth/guards";
import { getSalesPage, listDataLoads } from "@/lib/data-load/queries";
import { formatBytes, MAX_UNCOMPRESSED_BYTES, MAX_UPLOAD_BYTES, SALES_COLUMNS } from "@/lib/data-load/rules";

export const metadata: Metadata = { title: "Data Load" };
export const dynamic = "force-dynamic";

const money = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });
const cents = (value: number) => money.format(value / 100);

export default async function Page({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const user = await requireUser();
  const raw = (await searchParams).page;
  const requested = Number.parseInt(typeof raw === "string" ? raw : "1", 10);
  const [loads, sales] = await Promise.all([
    listDataLoads({ userId: user.id }),
    getSalesPage({ page: Number.isFinite(requested) ? requested : 1 }),
  ]);
  return (
    <section className="stack">
      <h1>Data Load</h1>
      <Notice tone="info" as="div">
        <p className="demo-info">
          Upload a CSV file of sales rows, or a ZIP holding one (up to {formatBytes(MAX_UPLOAD_BYTES)}; a ZIP
          may unpack to {formatBytes(MAX_UNCOMPRESSED_BYTES)}). It is loaded in the background while you keep
          working; rows that cannot be loaded are listed with the reason. Columns: {SALES_COLUMNS.join(", ")}.
          Try the{" "}
          <a href="/samples/sales-10000.zip" download>
            sample file with 10,000 rows
          </a>
          .
        </p>
      </Notice>
      <DataLoadView loads={loads} salesTotal={sales.total} />
      <div className="stack">
        <h2>Sales ({plural(sales.total, "row")})</h2>
        <div className="data-table sales-table">
          <ScrollRegion label="Sales">
            <table className="cards-on-phone" role="table">
              <caption className="visually-hidden">Sales</caption>
              <thead role="rowgroup">
                <tr role="row">
                  {SALES_COLUMNS.map((column) => (
                    <th key={column} scope="col" role="columnheader" className="th-static">
                      {column}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody role="rowgroup">
                {sales.rows.length === 0 ? (
                  <tr role="row">
                    <td colSpan={SALES_COLUMNS.length} className="empty" role="cell">
                      No sales data. Load a file to fill this table.
                    </td>
                  </tr>
                ) : (
                  sales.rows.map((row) => (
                    <tr key={row.id} role="row">
                      <td role="cell" data-label="Region">
                        {row.region}
                      </td>
                      <td role="cell" data-label="Country">
                        {row.country}
                      </td>
                      <td role="cell" data-label="Item Type">
                        {row.itemType}
                      </td>
                      <td role="cell" data-label="Sales Channel">
                        {row.salesChannel}
                      </td>
                      <td role="cell" data-label="Order Priority">
                        {row.orderPriority}
                      </td>
                      <td role="cell" data-label="Units Sold" className="numeric">
                        {row.unitsSold.toLocaleString("en-US")}
                      </td>
                      <td role="cell" data-label="Unit Price" className="numeric">
                        {cents(row.unitPriceCents)}
                      </td>
                      <td role="cell" data-label="Unit Cost" className="numeric">
                        {cents(row.unitCostCents)}
                      </td>
                      <td role="cell" data-label="Total Profit" className="numeric">
                        {cents(row.totalProfitCents)}
                      </td>
                    </tr>
                  ))
                )}
              </tbody>
            </table>
          </ScrollRegion>
          {sales.pages > 1 ? (
            <nav className="pager" aria-label="Sales pages">
              {sales.page > 1 ? (
                <Link className="button" href={`/data-load?page=${sales.page - 1}`} scroll={false}>
                  Previous
                </Link>
              ) : (
                <span className="button" aria-disabled="true">
                  Previous
                </span>
              )}
              <span>
                Page {sales.page} of {sales.pages}
              </span>
              {sales.page < sales.pages ? (
                <Link className="button" href={`/data-load?page=${sales.page + 1}`} scroll={false}>
                  Next
                </Link>
              ) : (
                <span className="button" aria-disabled="true">
                  Next
                </span>
              )}
            </nav>
          ) : null}
        </div>
      </div>
    </section>
  );
}
