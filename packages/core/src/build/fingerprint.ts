import { createHash } from "node:crypto";
import type { Feature } from "../feature";
import type { SourceFile } from "../source";

/**
 * Bumped when the way features are built changes, so that every feature rebuilds once.
 * 2: the data file's footer carries the build's metadata and id; the schema is the stored file's.
 */
const BUILD_VERSION = 2;

/** The checks of a feature as they enter its fingerprint: column, description and severity. */
function checksOf(feature: Feature): unknown {
  if (feature.checks === undefined) return null;
  return Object.entries(feature.checks).map(([column, checks]) => [column, checks.map((check) => [check.description, check.severity, check.failing("c")])]);
}

/**
 * What identifies a build's output: the rendered SQL (for a rolling feature, the compiled windows),
 * keys, timestamp, rolling specification, checks and source files (with what identifies their content).
 */
export function fingerprintOf(feature: Feature, sql: string, files: readonly SourceFile[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ version: BUILD_VERSION, sql, keys: feature.keys, timestamp: feature.timestamp ?? null, files, ...(feature.rolling === undefined ? {} : { rolling: feature.rolling }), ...(feature.checks === undefined ? {} : { checks: checksOf(feature) }) }))
    .digest("hex");
}
