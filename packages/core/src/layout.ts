import { assertFeatureName, FEATURE_NAME_PATTERN } from "./feature";
import { StoreAccessError } from "./errors";
import type { OfflineStore } from "./offline-store";

/**
 * Every key core writes in an offline store, in one place, so that every store has the same layout:
 *
 * ```
 * <feature>.parquet            the current data of a feature
 * _metadata/<feature>.json     its metadata document (an index; the data file's footer is the truth)
 * ```
 */
const METADATA_PREFIX = "_metadata/";

/** The key of feature `name`'s data file. */
export function dataKey(name: string): string {
  assertFeatureName(name);
  return `${name}.parquet`;
}

/** The key of feature `name`'s metadata document. */
export function metadataKey(name: string): string {
  assertFeatureName(name);
  return `${METADATA_PREFIX}${name}.json`;
}

/** Names of the features that have a metadata document in `store`, sorted. */
export async function listFeatureNames(store: OfflineStore): Promise<string[]> {
  const keys = await store.list(METADATA_PREFIX);
  return keys
    .map((key) => key.slice(METADATA_PREFIX.length))
    .filter((rest) => rest.endsWith(".json"))
    .map((rest) => rest.slice(0, -".json".length))
    .filter((name) => FEATURE_NAME_PATTERN.test(name))
    .sort();
}

/** The pattern of every key a store accepts: `/`-separated segments of letters, digits, `_`, `.`, `@` and `-`, none `.` or `..`. */
const KEY_SEGMENT = /^[A-Za-z0-9_.@-]+$/;

/** Throws `StoreAccessError` unless `key` is a key core could have made; stores call it before touching paths. */
export function assertStoreKey(key: string): void {
  const segments = typeof key === "string" ? key.split("/") : [];
  if (segments.length === 0 || segments.some((segment) => !KEY_SEGMENT.test(segment) || segment === "." || segment === "..")) {
    throw new StoreAccessError(`'${String(key)}' is not a store key: keys are '/'-separated names of letters, digits, '_', '.', '@' and '-', such as 'user_total_spend.parquet'.`);
  }
}
