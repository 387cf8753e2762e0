import { createHash, randomBytes } from "node:crypto";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FeatureBuildResult } from "./build-result";
import type { Engine } from "./engine";
import { FeatureBuildError, MlforgeError } from "./errors";
import { errorMessage } from "./errors/error-message";
import type { Feature } from "./feature";
import { FOOTER_KEY, metadataFromFooter, serializeMetadata, type FeatureFooter, type FeatureMetadata, type StoredFileFacts } from "./feature-metadata";
import type { OfflineStore } from "./offline-store";
import { readerSql, resolveSource, sourceFormat, type ResolvedSource, type SourceFile, type SourceFormat } from "./source";
import type { RemoteObject } from "./source-provider";
import type { Session } from "./session";
import { asSubquery, quoteIdentifier, quoteLiteral } from "./sql";
import { metadataOfStoredFile, readFooter, readMetadataDocument, readStoredFile } from "./stored-feature";
import { dataKey, metadataKey } from "./layout";
import { createTemporaryDirectory, removeTemporaryDirectory } from "./temporary-directory";

/** What `buildFeature` needs from its caller. */
export interface BuildContext {
  session: Session;
  /** The build's engine (remote source objects are downloaded to `session.engineOptions.tempDirectory`). */
  engine: Engine;
  force: boolean;
}

/**
 * Bumped when the way features are built changes, so that every feature rebuilds once.
 * 2: the data file's footer carries the build's metadata and id; the schema is the stored file's.
 */
const BUILD_VERSION = 2;

/** How many times a metadata document is written, at most, to match a data file that concurrent builds keep replacing. */
const METADATA_ATTEMPTS = 5;

/**
 * A new build id: 32 hex digits, the first 12 the time in milliseconds, so ids sort in build order
 * (versions and the online sync compare them); the rest random, so concurrent builds differ.
 */
export function newBuildId(): string {
  return `${Date.now().toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
}

function fingerprintOf(feature: Feature, sql: string, files: readonly SourceFile[]): string {
  return createHash("sha256")
    .update(JSON.stringify({ version: BUILD_VERSION, sql, keys: feature.keys, timestamp: feature.timestamp ?? null, files }))
    .digest("hex");
}

async function renderSql(feature: Feature, relation: string): Promise<string> {
  let sql: unknown;
  try {
    sql = await feature.transform(relation);
  } catch (error) {
    throw new FeatureBuildError(feature.name, `its transform threw: ${errorMessage(error)}`, { cause: error });
  }
  if (typeof sql !== "string" || sql.trim() === "") {
    throw new FeatureBuildError(
      feature.name,
      `its transform returned ${sql === "" ? "an empty string" : typeof sql} instead of a SQL query. Return a string such as \`SELECT … FROM \${source}\`.`,
    );
  }
  return sql;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? `'${value}'` : String(value);
}

/**
 * Checks what retrieval relies on: one row per key (and timestamp), no null key or timestamp.
 * One pass over the staged file's key columns counts rows, nulls and distinct key hashes (a hash
 * of one 64-bit value aggregates faster than the key columns themselves); only when that pass
 * sees a problem does an exact query look for an example, so a hash collision cannot fail a build.
 */
async function validateOutput(engine: Engine, feature: Feature, file: string): Promise<number> {
  const table = `read_parquet(${quoteLiteral(file)})`;
  const identity = [...feature.keys, ...(feature.timestamp === undefined ? [] : [feature.timestamp])];
  const columns = identity.map(quoteIdentifier).join(", ");
  const anyNull = identity.map((column) => `${quoteIdentifier(column)} IS NULL`).join(" OR ");
  const [summary] = await engine.rows(
    `SELECT count(*)::BIGINT AS row_count, count(DISTINCT hash(${columns}))::BIGINT AS distinct_count, count(*) FILTER (WHERE ${anyNull})::BIGINT AS null_count FROM ${table}`,
  );
  const rows = Number(summary?.row_count ?? 0);
  if (Number(summary?.null_count) > 0) {
    const [nullRow] = await engine.rows(`SELECT ${columns} FROM ${table} WHERE ${anyNull} LIMIT 1`);
    const column = identity.find((name) => nullRow?.[name] === null) ?? identity[0];
    throw new FeatureBuildError(
      feature.name,
      `its output has a row whose ${column === feature.timestamp ? "timestamp" : "key"} column '${column}' is NULL ` +
        `(${identity.map((name) => `${name}=${describe(nullRow?.[name])}`).join(", ")}). Filter such rows out in the transform (WHERE ${column} IS NOT NULL).`,
    );
  }
  if (Number(summary?.distinct_count) < rows) {
    const [duplicate] = await engine.rows(`SELECT ${columns}, count(*) AS mlforge_count FROM ${table} GROUP BY ALL HAVING count(*) > 1 LIMIT 1`);
    if (duplicate !== undefined) {
      throw new FeatureBuildError(
        feature.name,
        `its output has ${String(duplicate.mlforge_count)} rows for ${identity.map((name) => `${name}=${describe(duplicate[name])}`).join(", ")}; ` +
          `it must have one row per ${identity.join(", ")} so that retrieval can pick one. Aggregate with GROUP BY ${identity.join(", ")}.`,
      );
    }
  }
  return rows;
}

/**
 * Writes the metadata document of `metadata.name`. For a store that serves files in place, it then
 * checks that the data file is still the one the document describes: a concurrent build of the same
 * feature may have replaced it in between, and then the document is rewritten from that file's
 * footer, until the two match. Returns the metadata last written.
 */
async function publishMetadata(store: OfflineStore, metadata: FeatureMetadata, reader: Engine | undefined): Promise<FeatureMetadata> {
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

/**
 * The stored feature when it was built with this fingerprint, so that the build can skip it. The
 * data file's footer decides, not the metadata document: a document whose build id is not the
 * footer's was left stale by a crash (or a concurrent build) between the data and the metadata
 * write, and is rewritten from the footer. A remote store is asked only for the data object's
 * version (a HEAD) when the document says it is current and names that version: a fresh machine
 * skips without downloading. Otherwise the data file is read (downloaded once, then cached).
 */
async function currentStored(feature: Feature, context: BuildContext, fingerprint: string): Promise<{ uri: string; metadata: FeatureMetadata } | undefined> {
  const { engine } = context;
  const store = context.session.offlineStore;
  const previous = await readMetadataDocument(store, feature.name, { deniedIsMissing: true });
  const inPlace = store.capabilities.servesFilesInPlace;
  if (previous?.fingerprint !== fingerprint && !inPlace) return undefined;
  const key = dataKey(feature.name);
  const head = await store.head(key);
  if (head === undefined) return undefined;
  if (!inPlace && head.etag !== undefined && head.etag === previous?.dataEtag) return { uri: head.uri, metadata: previous };
  const path = await store.getFile(key);
  // A file that is not Parquet (damaged outside mlforge) is rebuilt.
  const file = path === undefined ? undefined : await readStoredFile(engine, path).catch(() => undefined);
  if (file?.footer?.fingerprint !== fingerprint) return undefined;
  const metadata = metadataOfStoredFile(previous, file)!;
  if (metadata === previous) return { uri: head.uri, metadata };
  const repaired = { ...metadata, ...(head.etag === undefined ? {} : { dataEtag: head.etag }) };
  return { uri: head.uri, metadata: await publishMetadata(store, repaired, inPlace ? engine : undefined) };
}

/** Downloads at most this many source objects at once. */
const DOWNLOAD_CONCURRENCY = 4;

/** Downloads every object of a remote source into `directory`; returns the local paths, in the objects' order. */
async function downloadObjects(feature: Feature, source: Extract<ResolvedSource, { kind: "remote" }>, directory: string): Promise<string[]> {
  const paths = source.objects.map((object, index) => {
    // Keeps the object's name, extension included: DuckDB detects compression (.gz) from it.
    const name = (object.uri.split("/").at(-1) ?? "").replace(/[^A-Za-z0-9._-]/g, "_") || "object";
    return join(directory, `${index}-${name}`);
  });
  const download = async (object: RemoteObject, file: string): Promise<void> => {
    try {
      await source.provider.download(object, file);
    } catch (error) {
      if (MlforgeError.isInstance(error)) throw error;
      throw new FeatureBuildError(feature.name, `downloading its source object '${object.uri}' failed: ${errorMessage(error)}`, { cause: error });
    }
  };
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < source.objects.length) {
      const index = next++;
      await download(source.objects[index]!, paths[index]!).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  // Settled, not Promise.all: the caller removes the directory, so no download may still be writing into it.
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, source.objects.length) }, worker));
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return paths;
}

/**
 * A feature computed into a staged Parquet file and validated, not yet in the store. Publishing
 * (an upload, for a remote store) may overlap the next feature's computation.
 */
export interface ComputedFeature {
  /** Puts the staged file into the store, then its metadata; removes the staged file either way. */
  publish(): Promise<FeatureBuildResult>;
}

/** Computes one feature, or skips it (a result) when its fingerprint is unchanged. */
export async function buildFeature(feature: Feature, context: BuildContext): Promise<FeatureBuildResult | ComputedFeature> {
  const started = performance.now();
  const { engine, session } = context;
  const source = await resolveSource(engine, feature.name, feature.source, session.sources, session.baseDirectory);
  const files: SourceFile[] = source.files;
  // DuckDB would read an empty file as one column named column0 or json, and fail later with a
  // confusing binder error; an empty file among others is fine (it adds no rows).
  if (files.every((file) => file.size === 0)) {
    const list = files.map((file) => file.path).join(", ");
    throw new FeatureBuildError(
      feature.name,
      `its source '${feature.source}' holds no data: ${files.length === 1 ? "the file it names is" : "every file it matches is"} empty (0 bytes): ${list}. Write the data first, or point the source at files that hold it.`,
    );
  }
  const relation = quoteIdentifier(`${feature.name}_source`);
  const sql = await renderSql(feature, relation);
  const fingerprint = fingerprintOf(feature, sql, files);

  // Decided before anything is downloaded: an unchanged remote source costs one listing.
  if (!context.force) {
    const current = await currentStored(feature, context, fingerprint);
    if (current !== undefined) {
      const { rows, bytes } = current.metadata;
      return { name: feature.name, status: "skipped", rows, bytes, uri: current.uri, durationMs: performance.now() - started };
    }
  }

  // A source without a known extension (an s3:// prefix) takes the format of its first object.
  const format = sourceFormat(feature.source) ?? sourceFormat(files[0]?.path ?? "") ?? "parquet";
  const build = (paths: readonly string[]) => buildFrom(feature, context, { relation, sql, fingerprint, files, format, paths, started });
  if (source.kind === "local") return build(source.files.map((file) => file.path));
  const directory = await createTemporaryDirectory(session.engineOptions.tempDirectory);
  try {
    return await build(await downloadObjects(feature, source, directory));
  } finally {
    await removeTemporaryDirectory(directory);
  }
}

/** What `buildFrom` needs from `buildFeature`. */
interface BuildPlan {
  relation: string;
  sql: string;
  fingerprint: string;
  files: SourceFile[];
  format: SourceFormat;
  /** Local files to read the source from. */
  paths: readonly string[];
  started: number;
}

/** Runs the feature's SQL over the local files of its source into a staged file and validates it. */
async function buildFrom(feature: Feature, context: BuildContext, plan: BuildPlan): Promise<ComputedFeature> {
  const { engine } = context;
  const store = context.session.offlineStore;
  const { relation, sql, fingerprint, files, format, started } = plan;
  const engineStep = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await step();
    } catch (error) {
      if (MlforgeError.isInstance(error)) throw error;
      throw new FeatureBuildError(feature.name, errorMessage(error), { cause: error });
    }
  };

  const reader = readerSql(format, plan.paths);
  await engineStep(() => engine.run(`CREATE OR REPLACE TEMP VIEW ${relation} AS SELECT * FROM ${reader}`));
  const query = asSubquery(sql);
  const schema = await engineStep(() => engine.columns(`SELECT * FROM ${query}`));
  const names = schema.map((column) => column.name);
  for (const [role, column] of [...feature.keys.map((key) => ["key", key]), ...(feature.timestamp ? [["timestamp", feature.timestamp]] : [])]) {
    if (!names.includes(column!)) {
      throw new FeatureBuildError(
        feature.name,
        `its output has no ${role} column '${column}'. Output columns: ${names.join(", ")}. Make the transform's SELECT return '${column}'.`,
      );
    }
  }

  // The metadata known before the data is written travels inside the data file, with a fresh build
  // id that the metadata document repeats: the pair shows whether the document describes the file.
  const footer: FeatureFooter = {
    formatVersion: 1,
    name: feature.name,
    definitions: context.session.definitions,
    ...(feature.description === undefined ? {} : { description: feature.description }),
    tags: [...feature.tags],
    keys: [...feature.keys],
    ...(feature.timestamp === undefined ? {} : { timestamp: feature.timestamp }),
    source: feature.source,
    sourceFiles: files,
    fingerprint,
    buildId: newBuildId(),
    builtAt: new Date().toISOString(),
  };
  const staged = await store.stagingPath(dataKey(feature.name));
  let file: StoredFileFacts;
  try {
    // The staged file may exist already (a store may create it to prove it can write): DuckDB then
    // writes a `tmp_` file beside it first, which an interrupted COPY leaves behind. The staged file
    // is itself temporary, so DuckDB writes it directly.
    const options = `FORMAT parquet, USE_TMP_FILE false, KV_METADATA {${quoteIdentifier(FOOTER_KEY)}: ${quoteLiteral(JSON.stringify(footer))}}`;
    await engineStep(() => engine.run(`COPY ${query} TO ${quoteLiteral(staged)} (${options})`));
    // The staged file is this build's own: its footer is `footer` and validation counted its rows,
    // so only the stored column types (which may differ from the query's) and the size are read.
    const rows = await engineStep(() => validateOutput(engine, feature, staged));
    file = { rows, schema: await engineStep(() => engine.columns(`SELECT * FROM read_parquet(${quoteLiteral(staged)})`)), bytes: (await stat(staged)).size };
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }

  const publish = async (): Promise<FeatureBuildResult> => {
    // Publishing overlaps the next feature's computation on the main connection: reads go through their own.
    let reader: Engine | undefined;
    try {
      if (store.capabilities.servesFilesInPlace) reader = await engine.fork();
      const stored = await store.putFile(dataKey(feature.name), staged);
      const durationMs = performance.now() - started;
      const metadata: FeatureMetadata = {
        ...metadataFromFooter(footer, file, { builtAt: new Date().toISOString(), durationMs: Math.round(durationMs) }),
        ...(stored.etag === undefined ? {} : { dataEtag: stored.etag }),
      };
      await publishMetadata(store, metadata, reader);
      return { name: feature.name, status: "built", rows: file.rows, bytes: stored.bytes, uri: stored.uri, durationMs };
    } finally {
      reader?.close();
      await rm(staged, { force: true });
    }
  };
  return { publish };
}
