import { escapeControlCharacters } from "./output-stream";

/** Formats an integer with thousands separators: `5,000`. */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

const byteUnits = ["KiB", "MiB", "GiB", "TiB"];

/** Formats a size in bytes for people: `512 B`, `1.5 KiB`, `12.0 MiB`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1024) return `${Math.max(0, Math.round(bytes || 0))} B`;
  let value = bytes;
  let unit = "B";
  for (const next of byteUnits) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return `${value.toFixed(1)} ${unit}`;
}

/** Formats a duration for people: `120 ms`, `3.4 s`, `2 min 5 s`. */
export function formatDuration(milliseconds: number): string {
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const seconds = Math.round(milliseconds / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** Formats an ISO 8601 time as `2025-01-31 14:05:09 UTC`; other strings are returned unchanged. */
export function formatTime(iso: string): string {
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) return iso;
  return `${time.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** How a table column is aligned. */
export type Alignment = "left" | "right";

/** One column of `formatTable()`. */
export interface TableColumn {
  /** Heading shown above the column. */
  header: string;
  /** @default "left" */
  align?: Alignment;
}

/** Lays rows out as a plain-text table with a header and a dashed rule; every line ends with a newline. */
export function formatTable(columns: readonly TableColumn[], rows: readonly (readonly string[])[]): string {
  const widths = columns.map((column, index) => Math.max(column.header.length, ...rows.map((row) => (row[index] ?? "").length)));
  const line = (cells: readonly string[]) =>
    columns
      .map((column, index) => {
        const cell = cells[index] ?? "";
        const width = widths[index] ?? 0;
        return column.align === "right" ? cell.padStart(width) : cell.padEnd(width);
      })
      .join("  ")
      .trimEnd();
  return [line(columns.map((column) => column.header)), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].map((text) => `${text}\n`).join("");
}

/** Lays out `label  value` pairs with the labels padded to one width, indented by two spaces. */
export function formatFields(fields: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...fields.map(([label]) => label.length));
  return fields
    .map(([label, value]) => {
      const [first = "", ...rest] = value.split("\n");
      const continuation = rest.map((part) => `\n  ${" ".repeat(width)}  ${part}`).join("");
      return `  ${label.padEnd(width)}  ${first}${continuation}`.trimEnd() + "\n";
    })
    .join("");
}

const numericType = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|REAL|DECIMAL(\(\d+,\s*\d+\))?)$/;

/** True for DuckDB number types, whose table columns are right-aligned. */
export function isNumericType(type: string): boolean {
  return numericType.test(type);
}

/** Formats a `Date` as DuckDB shows a value of `type`: `2025-01-31` for DATE, else `2025-01-31 14:05:09` (UTC), with milliseconds when there are some. */
function formatDate(value: Date, type: string): string {
  if (Number.isNaN(value.getTime())) return "invalid date";
  const iso = value.toISOString();
  if (type === "DATE") return iso.slice(0, 10);
  const time = `${iso.slice(0, 10)} ${iso.slice(11, iso.endsWith(".000Z") ? 19 : 23)}`;
  return type.includes("WITH TIME ZONE") ? `${time} UTC` : time;
}

/**
 * Formats one value of a row, as `FeatureFrame.rows()` gives it, for a table cell: `null`, dates
 * and times as DuckDB shows them, lists and structs as JSON, all on one line and cut to `maxLength`.
 * @param maxLength @default 40
 */
export function formatValue(value: unknown, type = "", maxLength = 40): string {
  let text: string;
  if (value === null || value === undefined) text = "null";
  else if (value instanceof Date) text = formatDate(value, type);
  else if (typeof value === "object") text = JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item));
  else text = String(value);
  // Escaped here too, not only when written: a cell's width must count what the terminal shows.
  text = escapeControlCharacters(text.replace(/[\r\n\t]+/g, " "));
  return text.length > maxLength ? `${text.slice(0, maxLength - 1)}…` : text;
}
