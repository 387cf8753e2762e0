/** Quotes a SQL identifier for DuckDB ("a""b"). */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a SQL string literal for DuckDB ('it''s'). */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Makes a user's query safe to wrap in `( … )`: drops trailing semicolons, and ends with a newline
 * so that a trailing `-- comment` cannot swallow the closing parenthesis.
 */
export function asSubquery(sql: string): string {
  return `(\n${sql.trim().replace(/;+\s*$/, "")}\n)`;
}
