import { MlforgeError } from "./errors";
import { quoteLiteral } from "./sql";

// DuckDB treats `*`, `?` and `[` in any path it reads as a glob, even in a list of files.
const duckdbGlobCharacters = /[*?[]/;

/**
 * The DuckDB pattern that matches exactly this path and nothing else: each glob character in a
 * one-character class (`tx[1].csv` → `tx[[]1].csv`), so that a sibling the name would match as a
 * pattern is never read instead, and a matched file is never expanded again.
 */
export function literalPattern(file: string): string {
  const portable = process.platform === "win32" ? file.replaceAll("\\", "/") : file;
  if (!duckdbGlobCharacters.test(portable)) return portable;
  if (portable.includes("\\")) {
    // Inside a pattern DuckDB takes a backslash as an escape, and no escaping matches one literally.
    throw new MlforgeError(`Path '${file}' has a backslash and one of * ? [ in it, which DuckDB cannot read literally. Rename the file or directory so that it has only one of the two.`);
  }
  return portable.replace(/[*?[]/g, (character) => `[${character}]`);
}

/** A SQL string literal of a path for DuckDB's readers (`read_parquet`, `parquet_kv_metadata`…) that reads exactly that file. */
export function quotePath(file: string): string {
  return quoteLiteral(literalPattern(file));
}
