import { createHash } from "node:crypto";
import type { Feature } from "../feature";
import type { SourceFile } from "../source";

/**
 * Bumped when the way features are built changes, so that every feature rebuilds once.
 * 2: the data file's footer carries the build's metadata and id; the schema is the stored file's.
 */
const BUILD_VERSION = 2;

/** What identifies a build's output: the rendered SQL, keys, timestamp and source files (with what identifies their content). */
export function fingerprintOf(feature: Feature, sql: string, files: readonly SourceFile[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ version: BUILD_VERSION, sql, keys: feature.keys, timestamp: feature.timestamp ?? null, files }))
    .digest("hex");
}
