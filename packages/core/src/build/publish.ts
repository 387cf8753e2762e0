import { rm } from "node:fs/promises";
import type { CheckResult } from "../checks";
import type { Engine } from "../engine";
import { metadataFromFooter, serializeMetadata, type FeatureFooter, type FeatureMetadata, type StoredFileFacts } from "../feature-metadata";
import { dataKey, metadataKey } from "../layout";
import type { OfflineStore, StoredObject } from "../offline-store";
import { metadataOfStoredFile, readFooter, readStoredFile } from "../stored-feature";

/** How many times a metadata document is written, at most, to match a data file that concurrent builds keep replacing. */
const METADATA_ATTEMPTS = 5;

/**
 * Writes the metadata document of `metadata.name`. For a store that serves files in place, it then
 * checks that the data file is still the one the document describes: a concurrent build of the same
 * feature may have replaced it in between, and then the document is rewritten from that file's
 * footer, until the two match. Returns the metadata last written.
 */
export async function publishMetadata(store: OfflineStore, metadata: FeatureMetadata, reader: Engine | undefined): Promise<FeatureMetadata> {
  let current = metadata;
  for (let attempt = 1; ; attempt++) {
    await store.putText(metadataKey(current.name), serializeMetadata(current));
    if (reader === undefined || attempt === METADATA_ATTEMPTS) return current;
    const path = await store.getFile(dataKey(current.name));
    // The footer alone tells whether the file is still this build's; the rest is read only if not.
    const footer = path === undefined ? undefined : await readFooter(reader, path).catch(() => undefined);
    if (footer === undefined || footer.buildId === current.buildId) return current;
    const file = await readStoredFile(reader, path!).catch(() => undefined);
    const described = file === undefined ? undefined : metadataOfStoredFile(current, file);
    if (described === undefined || described === current) return current;
    current = described;
  }
}

/** A feature's data in a local Parquet file, not yet in the store: its path, the footer written into it, and its stored columns, rows and size. */
export interface StagedData {
  /** A path from the store's `stagingPath(dataKey(footer.name))`. */
  path: string;
  footer: FeatureFooter;
  file: StoredFileFacts;
  /** The results of the feature's checks, for the metadata document. @default none */
  checks?: CheckResult[];
}

/** What `publishStaged` put in the store. */
export interface Published {
  stored: StoredObject;
  metadata: FeatureMetadata;
  /** From `started` to the data file being in the store. */
  durationMs: number;
}

/**
 * Puts a staged data file into the store as its feature's data, then writes its metadata document
 * (repaired against concurrent builds, see `publishMetadata`); removes the staged file either way.
 * `started` (a `performance.now()` time) is when the work that made the file began.
 */
export async function publishStaged(store: OfflineStore, engine: Engine, staged: StagedData, started: number): Promise<Published> {
  // Publishing overlaps the next feature's computation on the main connection: reads go through their own.
  let reader: Engine | undefined;
  try {
    if (store.capabilities.servesFilesInPlace) reader = await engine.fork();
    const stored = await store.putFile(dataKey(staged.footer.name), staged.path);
    const durationMs = performance.now() - started;
    const metadata: FeatureMetadata = {
      ...metadataFromFooter(staged.footer, staged.file, { builtAt: new Date().toISOString(), durationMs: Math.round(durationMs) }),
      ...(stored.etag === undefined ? {} : { dataEtag: stored.etag }),
      ...(staged.checks === undefined || staged.checks.length === 0 ? {} : { checks: staged.checks }),
    };
    return { stored, metadata: await publishMetadata(store, metadata, reader), durationMs };
  } finally {
    reader?.close();
    await rm(staged.path, { force: true });
  }
}
