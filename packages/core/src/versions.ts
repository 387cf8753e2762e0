import type { Engine } from "./engine";
import { checkMetadata, type FeatureMetadata } from "./feature-metadata";
import { versionMetadataKey } from "./layout";
import type { OfflineStore } from "./offline-store";
import { describeStoredFeature, keptVersionIds } from "./stored-feature";

/** One build of a feature that the offline store keeps; see `Definitions.versions()`. */
export interface FeatureVersion {
  /** The build's id; ids sort in build order. */
  buildId: string;
  /** When the build finished (ISO 8601). */
  builtAt: string;
  rows: number;
  bytes: number;
  /** The fingerprint of the definition and source it was built from. */
  fingerprint: string;
  /** True for the version the feature serves now (after a rollback, an older one). */
  current: boolean;
}

/**
 * The kept versions of feature `name`, newest build first, the current one marked. The current data
 * is listed even when it has no kept copy (versions off, or built before versions existed), so a
 * built feature always has at least one version. Empty when it was never built.
 */
export async function listVersions(engine: Engine, store: OfflineStore, name: string): Promise<FeatureVersion[]> {
  const [ids, current] = await Promise.all([keptVersionIds(store, name), describeStoredFeature(engine, store, name)]);
  const documents = await Promise.all(ids.map((id) => store.getText(versionMetadataKey(name, id)).then(checkMetadata)));
  const kept: FeatureMetadata[] = [];
  for (const [index, document] of documents.entries()) if (document?.metadata !== undefined && document.metadata.buildId === ids[index]) kept.push(document.metadata);
  if (current !== undefined && !kept.some(({ buildId }) => buildId === current.buildId)) kept.push(current);
  return kept
    .sort((a, b) => (a.buildId < b.buildId ? 1 : a.buildId > b.buildId ? -1 : 0))
    .map((metadata) => describeVersion(metadata, current?.buildId));
}

function describeVersion({ buildId, builtAt, rows, bytes, fingerprint }: FeatureMetadata, currentId: string | undefined): FeatureVersion {
  return { buildId, builtAt, rows, bytes, fingerprint, current: buildId === currentId };
}
