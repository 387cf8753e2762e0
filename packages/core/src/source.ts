import { stat } from "node:fs/promises";
import path from "node:path";
import type { Engine } from "./engine";
import { SourceNotFoundError } from "./errors";
import { quoteLiteral } from "./sql";

/** A file format DuckDB reads a source in. */
export type SourceFormat = "parquet" | "csv" | "json";

/** One file a source resolved to, with what identifies its content for fingerprints. */
export interface SourceFile {
  path: string;
  size: number;
  modifiedMs: number;
}

/** The format of a source, from its extension (`.gz` allowed), or undefined when unknown. */
export function sourceFormat(source: string): SourceFormat | undefined {
  const name = source.toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".parquet")) return "parquet";
  if (name.endsWith(".csv") || name.endsWith(".tsv")) return "csv";
  if (name.endsWith(".json") || name.endsWith(".ndjson") || name.endsWith(".jsonl")) return "json";
  return undefined;
}

const readers: Record<SourceFormat, string> = {
  parquet: "read_parquet",
  csv: "read_csv",
  json: "read_json_auto",
};

/** The DuckDB table function call that reads these files. */
export function readerSql(format: SourceFormat, files: readonly SourceFile[]): string {
  return `${readers[format]}([${files.map((file) => quoteLiteral(file.path)).join(", ")}])`;
}

const globCharacters = /[*?[{]/;

/** Resolves a feature's source (path or glob, relative to `process.cwd()`) to the files it names today. */
export async function resolveSource(engine: Engine, feature: string, source: string): Promise<SourceFile[]> {
  if (source.startsWith("s3://")) {
    throw new SourceNotFoundError(
      source,
      `Feature '${feature}' reads '${source}', but s3:// sources need @mlforge/store-s3. Install it (npm install @mlforge/store-s3) and try again.`,
    );
  }
  const absolute = path.resolve(source);
  const paths = globCharacters.test(source)
    ? (await engine.rows(`SELECT file FROM glob(${quoteLiteral(absolute)}) ORDER BY file`)).map((row) => String(row.file))
    : [absolute];
  const files: SourceFile[] = [];
  for (const file of paths) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) files.push({ path: file, size: info.size, modifiedMs: info.mtimeMs });
  }
  if (files.length === 0) {
    throw new SourceNotFoundError(
      source,
      `Source '${source}' of feature '${feature}' matched no file (looked for ${absolute}). ` +
        `Check the path; relative paths resolve from the working directory, ${process.cwd()}.`,
    );
  }
  return files;
}
