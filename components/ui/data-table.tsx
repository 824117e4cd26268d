"use client";

import {
  type ColumnDef,
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getPaginationRowModel,
  getSortedRowModel,
  type SortingState,
  useReactTable,
} from "@tanstack/react-table";
import { useId, useState } from "react";
import { ScrollRegion } from "@/components/ui/scroll-region";

/** The plain-text name of a column, shown beside each value when rows become cards on phones. */
function columnLabel(header: unknown): string {
  return typeof header === "string" ? header : "";
}

/**
 * Sortable, paged, optionally searchable table (@tanstack/react-table). Below 560 px each row becomes a
 * card listing every field with its column name (globals.css), so nothing needs a sideways scroll; the
 * column headers are then hidden (still read by screen readers) and one "Sort by" select replaces their
 * sort buttons.
 */
export function DataTable<Row>({
  columns,
  data,
  caption,
  initialSorting = [],
  pageSize = 10,
  searchLabel,
  emptyMessage = "Nothing here yet.",
  getRowId,
}: {
  // biome-ignore lint/suspicious/noExplicitAny: column value types differ per column, as in TanStack's own examples.
  columns: ColumnDef<Row, any>[];
  data: Row[];
  caption: string;
  initialSorting?: SortingState;
  pageSize?: number;
  searchLabel?: string;
  emptyMessage?: string;
  /** Stable row ids keep focus and the page in place when live data refreshes. */
  getRowId?: (row: Row) => string;
}) {
  const [sorting, setSorting] = useState<SortingState>(initialSorting);
  const sortId = useId();
  const [globalFilter, setGlobalFilter] = useState("");
  const table = useReactTable({
    data,
    columns,
    getRowId,
    autoResetPageIndex: false,
    state: { sorting, globalFilter },
    onSortingChange: setSorting,
    onGlobalFilterChange: setGlobalFilter,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getPaginationRowModel: getPaginationRowModel(),
    initialState: { pagination: { pageSize } },
  });
  const { pageIndex } = table.getState().pagination;
  const pageCount = Math.max(1, table.getPageCount());
  const rows = table.getRowModel().rows;
  const sortable = table
    .getAllLeafColumns()
    .filter((column) => column.getCanSort() && columnLabel(column.columnDef.header) !== "");
  const current = sorting[0];
  const sortValue = current ? `${current.desc ? "desc" : "asc"}:${current.id}` : "";

  return (
    <div className="data-table stack">
      {searchLabel ? (
        <label className="field table-search">
          <span>{searchLabel}</span>
          <input
            type="search"
            value={globalFilter}
            onChange={(event) => setGlobalFilter(event.target.value)}
          />
        </label>
      ) : null}
      {sortable.length > 0 ? (
        <div className="field sort-by">
          {/* Not wrapping the select: the label's text would hold every option's text too. */}
          <label htmlFor={sortId}>Sort by</label>
          <select
            id={sortId}
            value={sortValue}
            onChange={(event) => {
              const [direction, ...id] = event.target.value.split(":");
              setSorting(id.length > 0 ? [{ id: id.join(":"), desc: direction === "desc" }] : []);
            }}
          >
            <option value="">Default order</option>
            {sortable.flatMap((column) => {
              const label = columnLabel(column.columnDef.header);
              return [
                <option key={`asc:${column.id}`} value={`asc:${column.id}`}>
                  {label}, ascending
                </option>,
                <option key={`desc:${column.id}`} value={`desc:${column.id}`}>
                  {label}, descending
                </option>,
              ];
            })}
          </select>
        </div>
      ) : null}
      <ScrollRegion label={caption}>
        {/* Explicit roles: the phone layout (display: block) must not drop the table semantics. */}
        <table className="cards-on-phone" role="table">
          <caption className="visually-hidden">{caption}</caption>
          <thead role="rowgroup">
            {table.getHeaderGroups().map((group) => (
              <tr key={group.id} role="row">
                {group.headers.map((header) => {
                  const sorted = header.column.getIsSorted();
                  return (
                    <th
                      key={header.id}
                      role="columnheader"
                      scope="col"
                      className={header.column.getCanSort() ? undefined : "th-static"}
                      aria-sort={
                        sorted === "asc" ? "ascending" : sorted === "desc" ? "descending" : undefined
                      }
                    >
                      {header.isPlaceholder ? null : header.column.getCanSort() ? (
                        <>
                          {/* Phones: the header is read by screen readers, sorting is the select above. */}
                          <span className="th-phone">
                            {flexRender(header.column.columnDef.header, header.getContext())}
                          </span>
                          <button
                            type="button"
                            className="sort"
                            onClick={header.column.getToggleSortingHandler()}
                          >
                            {flexRender(header.column.columnDef.header, header.getContext())}
                            <span aria-hidden="true">
                              {sorted === "asc" ? " ▲" : sorted === "desc" ? " ▼" : ""}
                            </span>
                          </button>
                        </>
                      ) : (
                        flexRender(header.column.columnDef.header, header.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody role="rowgroup">
            {rows.length === 0 ? (
              <tr role="row">
                <td colSpan={columns.length} className="empty" role="cell">
                  {emptyMessage}
                </td>
              </tr>
            ) : (
              rows.map((row) => (
                <tr key={row.id} role="row">
                  {row.getVisibleCells().map((cell) => (
                    <td key={cell.id} role="cell" data-label={columnLabel(cell.column.columnDef.header)}>
                      {flexRender(cell.column.columnDef.cell, cell.getContext())}
                    </td>
                  ))}
                </tr>
              ))
            )}
          </tbody>
        </table>
      </ScrollRegion>
      {pageCount > 1 ? (
        <nav className="pager" aria-label={`${caption} pages`}>
          <button
            type="button"
            className="button"
            onClick={() => table.previousPage()}
            disabled={!table.getCanPreviousPage()}
          >
            Previous
          </button>
          <span>
            Page {pageIndex + 1} of {pageCount}
          </span>
          <button
            type="button"
            className="button"
            onClick={() => table.nextPage()}
            disabled={!table.getCanNextPage()}
          >
            Next
          </button>
        </nav>
      ) : null}
    </div>
  );
}
