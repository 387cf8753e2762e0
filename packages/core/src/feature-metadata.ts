import type { Column } from "./engine";
import type { SourceFile } from "./source";

/** The metadata document stored beside each built feature (`_metadata/<name>.json`). */
export interface FeatureMetadata {
  /** Version of this document's shape. */
  formatVersion: 1;
  name: string;
  /** Name of the `Definitions` that built it. */
  definitions: string;
  description?: string;
  tags: string[];
  keys: string[];
  timestamp?: string;
  /** The source as declared. */
  source: string;
  /** The files it resolved to when built. */
  sourceFiles: SourceFile[];
  /** Output columns and DuckDB types. */
  schema: Column[];
  rows: number;
  bytes: number;
  /** Hash of the rendered SQL, keys, timestamp and source files' identity; unchanged means skip. */
  fingerprint: string;
  /** ISO 8601 time the build finished. */
  builtAt: string;
  durationMs: number;
}

/** Parses a metadata document; undefined when it is missing or not one (a rebuild replaces it). */
export function parseMetadata(document: string | undefined): FeatureMetadata | undefined {
  if (document === undefined) return undefined;
  try {
    const parsed = JSON.parse(document) as Partial<FeatureMetadata>;
    return parsed.formatVersion === 1 && typeof parsed.fingerprint === "string" ? (parsed as FeatureMetadata) : undefined;
  } catch {
    return undefined;
  }
}

/** Serialises a metadata document, stable and readable. */
export function serializeMetadata(metadata: FeatureMetadata): string {
  return `${JSON.stringify(metadata, null, 2)}\n`;
}
