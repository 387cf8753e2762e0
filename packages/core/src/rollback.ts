import { describeObject, makeCurrent, publishMetadata } from "./build/publish";
import { pruneVersions } from "./build/prune-versions";
import type { Engine } from "./engine";
import { FeatureNotBuiltError, FeatureRollbackError, FeatureVersionNotFoundError } from "./errors";
import { checkMetadata, type FeatureMetadata } from "./feature-metadata";
import { versionDataKey, versionMetadataKey } from "./layout";
import type { OfflineStore } from "./offline-store";
import { listVersions, type FeatureVersion } from "./versions";

/** Options of `Definitions.rollback()`. */
export interface RollbackOptions {
  /** The build id of a kept version (from `versions(name)`), or `"previous"`: the newest kept version older than the current one. */
  to: string;
  /** Say what would happen without changing anything. @default false */
  dryRun?: boolean;
}

/** A version as a rollback reports it. */
export type RollbackVersion = Omit<FeatureVersion, "current">;

/** The outcome of `Definitions.rollback()`. */
export interface RollbackResult {
  name: string;
  /** The version that is now current (with `dryRun`: would be). */
  restored: RollbackVersion;
  /** The version that was current before. */
  replaced: RollbackVersion;
  /** True when nothing was changed. */
  dryRun: boolean;
  /** Something to tell the user, such as old versions that could not be removed. @default none */
  note?: string;
}

/** What `rollbackFeature` needs besides the feature and the options. */
export interface RollbackContext {
  engine: Engine;
  store: OfflineStore;
  /** See `DefinitionsOptions.keepVersions`: retention runs after the rollback as after a build. */
  keepVersions: number;
}

function reported({ current: _current, ...version }: FeatureVersion): RollbackVersion {
  return version;
}

/**
 * Makes a kept version of feature `name` its current one, as a build publishes: the version's data
 * is copied to the current key (atomically), then the current metadata document is written, a copy
 * of the version's own with `rollback` saying which build it restored and which it replaced. The
 * next `syncOnline` serves it; a later build skips while the definition is that version's.
 */
export async function rollbackFeature(name: string, options: RollbackOptions, { engine, store, keepVersions }: RollbackContext): Promise<RollbackResult> {
  const versions = await listVersions(engine, store, name);
  const current = versions.find((version) => version.current);
  if (current === undefined) throw new FeatureNotBuiltError([name], store.location);
  const known = versions.map((version) => version.buildId);
  const target = options.to === "previous" ? versions.find((version) => version.buildId < current.buildId) : versions.find((version) => version.buildId === options.to);
  if (target === undefined && options.to === "previous") throw new FeatureRollbackError(name, "no-previous", current.buildId, known);
  if (target === undefined) throw new FeatureVersionNotFoundError(name, options.to, known, store.location);
  if (target.current) throw new FeatureRollbackError(name, "already-current", current.buildId, known);

  // Listed means its document is kept; its data must be too (removed by hand, it cannot be restored).
  const [document, data] = await Promise.all([store.getText(versionMetadataKey(name, target.buildId)).then(checkMetadata), store.head(versionDataKey(name, target.buildId))]);
  const kept = known.filter((id) => id !== target.buildId);
  if (document?.metadata === undefined || data === undefined) throw new FeatureVersionNotFoundError(name, target.buildId, kept, store.location);
  const result: RollbackResult = { name, restored: reported(target), replaced: reported(current), dryRun: options.dryRun === true };
  if (result.dryRun) return result;

  const stored = await makeCurrent(store, name, target.buildId);
  const metadata: FeatureMetadata = {
    ...describeObject(document.metadata, stored),
    rollback: { restoredBuildId: target.buildId, replacedBuildId: current.buildId, rolledBackAt: new Date().toISOString() },
  };
  const published = await publishMetadata(store, metadata, store.capabilities.servesFilesInPlace ? engine : undefined);
  const note = await pruneVersions(store, name, keepVersions, published.buildId);
  return { ...result, ...(note === undefined ? {} : { note }) };
}
