// Tables as HTML in a cell. Takes a danfojs DataFrame (or anything with columns and rows of
// values), so the library does not have to load danfojs itself.
import { escapeHtml, showHtml } from "./display";

export interface TableLike {
  columns: string[];
  values: unknown[][] | unknown[];
}

function formatCell(value: unknown): string {
  if (typeof value === "number" && !Number.isInteger(value)) return value.toFixed(4);
  return String(value);
}

/** An HTML <table> of the frame's columns and rows. */
export function tableHtml(frame: TableLike, caption?: string): string {
  // Rows are arrays; a flat list (one value per row) is accepted too.
  const rows = frame.values.map((row) => (Array.isArray(row) ? row : [row]));
  const head = frame.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows
    .map((row) => `<tr>${row.map((v) => `<td style="text-align:right">${escapeHtml(formatCell(v))}</td>`).join("")}</tr>`)
    .join("\n");
  const title = caption ? `<caption>${escapeHtml(caption)}</caption>` : "";
  return `<table class="zth-table">${title}<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** Shows a table under the current cell (plain text outside a notebook). */
export function showTable(frame: TableLike, caption?: string): void {
  const text = [frame.columns.join("\t"), ...frame.values.map((r) => (Array.isArray(r) ? r : [r]).map(formatCell).join("\t"))];
  showHtml(tableHtml(frame, caption), (caption ? caption + "\n" : "") + text.join("\n"));
}
