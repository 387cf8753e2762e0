import { stat } from "node:fs/promises";
import path from "node:path";
import type { Engine } from "./engine";
import { SourceNotFoundError } from "./errors";
import { sourceScheme, type RemoteObject, type SourceProvider, type SourceProviders } from "./source-provider";
import { literalPattern, quotePath } from "./literal-path";
import { quoteLiteral } from "./sql";

/** A file format DuckDB reads a source in. */
export type SourceFormat = "parquet" | "csv" | "json";

/** A local file a source resolved to; its modification time stands for its content. */
export interface LocalSourceFile {
  /** Absolute path. */
  path: string;
  size: number;
  modifiedMs: number;
}

/** A remote object a source resolved to, as a metadata document records it. */
export interface RemoteSourceFile {
  /** The object's URI, such as `s3://bucket/data/2025-01.parquet`. */
  path: string;
  size: number;
  /** What changes whenever the content does (S3's ETag). */
  version: string;
}

/** One file or object a source resolved to, with what identifies its content for fingerprints. */
export type SourceFile = LocalSourceFile | RemoteSourceFile;

/** What a feature's source names today: local files, or remote objects and the provider that downloads them. */
export type ResolvedSource =
  | { kind: "local"; files: LocalSourceFile[] }
  | { kind: "remote"; provider: SourceProvider; objects: RemoteObject[]; files: RemoteSourceFile[] };

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

/** The DuckDB table function call that reads these local files (given as paths or local source files). */
export function readerSql(format: SourceFormat, files: readonly (string | LocalSourceFile)[]): string {
  return `${readers[format]}([${files.map((file) => quotePath(typeof file === "string" ? file : file.path)).join(", ")}])`;
}

const globCharacters = /[*?[{]/;

/** The glob pattern of a relative or absolute source: the base directory matches only itself. */
function globPattern(source: string, baseDirectory: string): string {
  return path.isAbsolute(source) ? path.normalize(source) : path.join(literalPattern(path.resolve(baseDirectory)), source);
}

function isRemoteObject(value: unknown): value is RemoteObject {
  const candidate = value as Partial<RemoteObject> | null;
  return typeof candidate?.uri === "string" && typeof candidate.size === "number" && typeof candidate.version === "string";
}

/** Lists a URI source through its provider: the objects, sorted, each with the version its fingerprint uses. */
async function resolveRemote(feature: string, source: string, provider: SourceProvider): Promise<ResolvedSource> {
  const listed: unknown = await provider.list(source);
  if (!Array.isArray(listed) || !listed.every(isRemoteObject)) {
    throw new SourceNotFoundError(source, `Feature '${feature}' reads '${source}', but its source provider listed something other than objects with uri, size and version.`);
  }
  if (listed.length === 0) {
    throw new SourceNotFoundError(
      source,
      `Source '${source}' of feature '${feature}' matched no object. Check the bucket, the key or pattern, and that the objects exist (a prefix must end in "/").`,
    );
  }
  // Only what identifies content goes on, so that extra fields a provider adds never change fingerprints.
  const objects = listed.map(({ uri, size, version }) => ({ uri, size, version })).sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  return { kind: "remote", provider, objects, files: objects.map(({ uri, size, version }) => ({ path: uri, size, version })) };
}

/** Where relative paths resolve from, for messages. */
export function relativePathsNote(baseDirectory: string): string {
  return baseDirectory === process.cwd()
    ? `relative paths resolve from the working directory, ${baseDirectory} (or the Definitions option baseDirectory).`
    : `relative paths resolve from the Definitions option baseDirectory, ${baseDirectory}.`;
}

/**
 * Resolves a feature's source to what it names today: a path or glob (relative to
 * `baseDirectory`) to local files, a URI (`s3://…`) to objects listed by the provider of its scheme.
 */
export async function resolveSource(engine: Engine, feature: string, source: string, providers: SourceProviders, baseDirectory: string): Promise<ResolvedSource> {
  const scheme = sourceScheme(source);
  if (scheme !== undefined) return resolveRemote(feature, source, await providers.providerFor(feature, source, scheme));
  const absolute = path.resolve(baseDirectory, source);
  // A file whose name has glob characters is that file; otherwise a source with them is a pattern,
  // whose directory part outside the source (baseDirectory) is taken literally.
  const literal = await stat(absolute).catch(() => undefined);
  const paths =
    globCharacters.test(source) && !literal?.isFile()
      ? (await engine.rows(`SELECT file FROM glob(${quoteLiteral(globPattern(source, baseDirectory))}) ORDER BY file`)).map((row) => String(row.file))
      : [absolute];
  const files: LocalSourceFile[] = [];
  for (const file of paths) {
    const info = await stat(file).catch(() => undefined);
    if (info?.isFile()) files.push({ path: file, size: info.size, modifiedMs: info.mtimeMs });
  }
  if (files.length === 0) {
    throw new SourceNotFoundError(
      source,
      `Source '${source}' of feature '${feature}' matched no file (looked for ${absolute}). ` +
        `Check the path; ${relativePathsNote(baseDirectory)}`,
    );
  }
  return { kind: "local", files };
}
