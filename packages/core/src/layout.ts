import { assertFeatureName, FEATURE_NAME_PATTERN } from "./feature";
import { StoreAccessError } from "./errors";
import type { OfflineStore } from "./offline-store";

/**
 * Every key core writes in an offline store, in one place, so that every store has the same layout:
 *
 * ```
 * <feature>.parquet                      the current data of a feature
 * _metadata/<feature>.json               its metadata document (an index; the data file's footer is the truth)
 * _versions/<feature>/<buildId>.parquet  every kept build of it, immutable (the current one included)
 * _versions/<feature>/<buildId>.json     that build's metadata document
 * ```
 */
const METADATA_PREFIX = "_metadata/";
const VERSIONS_PREFIX = "_versions/";

/** A build id as `newBuildId()` makes them (and older, shorter ones): hex digits only. */
const BUILD_ID_PATTERN = /^[0-9a-f]{8,64}$/;

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

/** True when `value` has the shape of a build id, so it can name a version key. */
export function isBuildId(value: unknown): value is string {
  return typeof value === "string" && BUILD_ID_PATTERN.test(value);
}

/** The prefix under which every kept version of feature `name` lives (ends with `/`). */
export function versionsPrefix(name: string): string {
  assertFeatureName(name);
  return `${VERSIONS_PREFIX}${name}/`;
}

/** The key of the data file of build `buildId` of feature `name`. */
export function versionDataKey(name: string, buildId: string): string {
  return `${versionsPrefix(name)}${versionId(buildId)}.parquet`;
}

/** The key of the metadata document of build `buildId` of feature `name`. */
export function versionMetadataKey(name: string, buildId: string): string {
  return `${versionsPrefix(name)}${versionId(buildId)}.json`;
}

/** Build ids of the version metadata documents in `keys` (from `store.list(versionsPrefix(name))`), in build order. */
export function versionIdsOf(name: string, keys: readonly string[], extension: ".json" | ".parquet" = ".json"): string[] {
  const prefix = versionsPrefix(name);
  return keys
    .filter((key) => key.startsWith(prefix) && key.endsWith(extension))
    .map((key) => key.slice(prefix.length, -extension.length))
    .filter(isBuildId)
    .sort();
}

function versionId(buildId: string): string {
  if (!isBuildId(buildId)) throw new StoreAccessError(`'${String(buildId)}' is not a build id: build ids are hex digits, such as those \`defs.versions(name)\` lists.`);
  return buildId;
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
