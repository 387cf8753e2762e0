import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { splitSelections } from "./flag-values";
import { formatTable, formatValue, type TableColumn } from "./format";

/**
 * A row value for JSON: a BIGINT that a number cannot hold exactly as a string, a number JSON
 * cannot hold ("NaN", "Infinity") as a string, bytes as base64. Dates are ISO 8601 already (toJSON).
 */
function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value >= Number.MIN_SAFE_INTEGER && value <= Number.MAX_SAFE_INTEGER ? Number(value) : value.toString();
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  return value;
}

/** The text table of `mlforge get`: one line per entity, the keys first, numbers right-aligned. */
export function formatOnlineRows(rows: readonly Record<string, unknown>[]): string {
  const names = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const numeric = (name: string) => rows.every((row) => row[name] === null || typeof row[name] === "number" || typeof row[name] === "bigint");
  const columns = names.map((name): TableColumn => ({ header: name, align: numeric(name) ? "right" : "left" }));
  // Dates are instants: shown in UTC, saying so.
  return formatTable(columns, rows.map((row) => names.map((name) => formatValue(row[name], row[name] instanceof Date ? "TIMESTAMP WITH TIME ZONE" : ""))));
}

/** `mlforge get <features> --entity column=value …`: the online values of the features for the entities, a table or `{ "rows": [...] }`. */
export async function getCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout } = context;
  const rows = await definitions.getOnlineFeatures({ features: splitSelections(args.feature), entities: args.entity ?? [] });
  stdout.write(args.json ? `${JSON.stringify({ rows }, jsonValue, 2)}\n` : formatOnlineRows(rows));
  return EXIT_CODES.success;
}
