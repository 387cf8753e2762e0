import type { Engine } from "../engine";
import type { Feature } from "../feature";
import type { FeatureMetadata } from "../feature-metadata";
import { dataKey } from "../layout";
import type { OfflineStore } from "../offline-store";
import { footerMatches, metadataOfStoredFile, readCheckedMetadata, readFooter, readStoredFile } from "../stored-feature";
import { publishMetadata } from "./publish";

/** A stored feature that a build may skip: where its data is, and the metadata that describes it. */
export interface CurrentBuild {
  uri: string;
  metadata: FeatureMetadata;
  /** Set when the metadata document had to be rewritten from the footer because its shape was wrong: says so. */
  note?: string;
}

/**
 * The stored feature when it was built with this fingerprint, so that the build can skip it. The
 * data file's footer decides, not the metadata document: a document whose build id is not the
 * footer's was left stale by a crash (or a concurrent build) between the data and the metadata
 * write, and is rewritten from the footer. A remote store is asked only for the data object's
 * version (a HEAD) when the document says it is current and names that version: a fresh machine
 * skips without downloading. Otherwise the data file is read (downloaded once, then cached).
 */
export async function currentBuild(store: OfflineStore, engine: Engine, feature: Feature, fingerprint: string): Promise<CurrentBuild | undefined> {
  const checked = await readCheckedMetadata(store, feature.name, { deniedIsMissing: true });
  const previous = checked?.metadata;
  // A document of the wrong shape is stale: the footer decides, as after a crash.
  const malformed = checked?.problem;
  const inPlace = store.capabilities.servesFilesInPlace;
  if (previous?.fingerprint !== fingerprint && !inPlace && malformed === undefined) return undefined;
  const key = dataKey(feature.name);
  const head = await store.head(key);
  if (head === undefined) return undefined;
  if (!inPlace && head.etag !== undefined && head.etag === previous?.dataEtag) return { uri: head.uri, metadata: previous };
  const path = await store.getFile(key);
  // The usual case, a document its file's footer repeats the build id of, needs the footer alone.
  const footer = path === undefined || previous === undefined ? undefined : await readFooter(engine, path).catch(() => undefined);
  if (footer?.fingerprint === fingerprint && footerMatches(footer, previous, feature.name)) {
    return { uri: head.uri, metadata: previous };
  }
  // A file that is not Parquet (damaged outside mlforge) is rebuilt.
  const file = path === undefined ? undefined : await readStoredFile(engine, path).catch(() => undefined);
  // A file that holds another feature (copied over by hand) is rebuilt, whatever its fingerprint.
  if (file?.footer?.fingerprint !== fingerprint || file.footer.name !== feature.name) return undefined;
  const metadata = metadataOfStoredFile(previous, file)!;
  if (metadata === previous) return { uri: head.uri, metadata };
  const repaired = { ...metadata, ...(head.etag === undefined ? {} : { dataEtag: head.etag }) };
  const note = malformed === undefined ? undefined : `Its metadata document was malformed (${malformed}); rewrote it from the data file's footer.`;
  return { uri: head.uri, metadata: await publishMetadata(store, repaired, inPlace ? engine : undefined), ...(note === undefined ? {} : { note }) };
}
