// Features with two versions whose data tells them apart, for the crash and concurrency tests.
import { feature, type Feature } from "@mlforge/core";
import type { StoreDescription } from "./store-description";

/** What a build child (build-child.ts) builds, and where. */
export interface BuildChildConfig {
  /** The store to build into, as the child constructs it. */
  store: StoreDescription;
  /** The Parquet file written by `sourceSql`. */
  source: string;
  version: FeatureVersion;
  /** How many features: f0, f1, … */
  features: number;
  /** @default false */
  force?: boolean;
  /** Kill the child (SIGKILL, by itself) as it calls this store operation on this feature's current key: a crash at an exact point. @default none */
  crashAt?: { operation: "putFile" | "putText" | "copy"; feature: string };
  /** Wait this long before each metadata write, widening the window in which another build may replace the data. @default 0 */
  metadataDelayMs?: number;
  /** Files through which two children order their store operations exactly: create one, or wait until one exists. @default none */
  gates?: Gate[];
}

/** Before or after a store operation on a feature's current key, create a file or wait until a file exists. */
export interface Gate {
  when: "before" | "after";
  operation: "putFile" | "putText" | "copy";
  feature: string;
  create?: string;
  waitFor?: string;
}

/** Version 1 of a feature has a row per key of the source; version 2 a row per even key. Column `version` holds it. */
export type FeatureVersion = 1 | 2;

/** Distinct keys in the source. */
export const KEYS = 100_000;
/** Rows in the source: enough that each feature takes a while to compute, so that kills land inside builds. */
export const SOURCE_ROWS = 700_000;

/** The rows version `version` of every feature has. */
export function expectedRows(version: FeatureVersion): number {
  return version === 1 ? KEYS : KEYS / 2;
}

/** DuckDB statement writing the source to `file` (a quoted SQL literal). */
export function sourceSql(file: string): string {
  return `COPY (SELECT range % ${KEYS} AS k, range AS x FROM range(${SOURCE_ROWS})) TO ${file} (FORMAT parquet)`;
}

/** The feature names of a config. */
export function featureNames(count: number): string[] {
  return Array.from({ length: count }, (_, index) => `f${index}`);
}

/** Features f0…f<n-1> at `version`, every one reading `source`. */
export function versionedFeatures(config: Pick<BuildChildConfig, "source" | "version" | "features">): Feature[] {
  return featureNames(config.features).map((name, index) =>
    feature({ name, keys: ["k"], source: config.source }, (source) =>
      `SELECT k, ${config.version} AS version, sum(x + ${index}) AS total FROM ${source}${config.version === 2 ? " WHERE k % 2 = 0" : ""} GROUP BY k`,
    ),
  );
}
