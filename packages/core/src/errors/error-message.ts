/** The message of anything thrown; duck-typed, since errors from a native addon or a VM context fail `instanceof Error`. */
export function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/** The first line of a message, without a trailing full stop: DuckDB follows it with context such as the query. */
export function firstLine(message: string): string {
  return (message.split("\n")[0] ?? "").trim().replace(/\.+$/, "");
}
