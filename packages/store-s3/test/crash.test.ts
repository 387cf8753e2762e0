// Builds into an S3Store (on the in-process s3rver) killed with SIGKILL at exact and at seeded
// random points, and two builds of the same prefix at once: the bucket only ever holds whole
// objects, each feature is one of its versions, the metadata core reports matches the data, and
// the next build completes everything. MLFORGE_CRASH_SEED replays another sequence of kill points.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Definitions } from "@mlforge/core";
import { S3Store, type S3StoreOptions } from "@mlforge/store-s3";
import { dataFacts, duckdb, killTimes, literal, seededRandom, sleep, startBuild, type DataFacts } from "../../core/test/support/build-children";
import { expectedRows, featureNames, sourceSql, versionedFeatures, type BuildChildConfig, type FeatureVersion } from "../../core/test/support/versioned-features";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const SEED = Number(process.env.MLFORGE_CRASH_SEED ?? 11);
/** Kills at random points of a build. */
const KILLS = 5;
/** Kills at exact points first: as the data upload starts, and between the data and the metadata upload. */
const CRASH_POINTS: NonNullable<BuildChildConfig["crashAt"]>[] = [
  { operation: "putFile", feature: "f1" },
  { operation: "putText", feature: "f1" },
];
const FEATURES = 4;
const NAMES = featureNames(FEATURES);
const BUCKET = "mlforge-crash";

let s3: TestS3Server;
let directory: string;
let source: string;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-s3-crash-"));
  source = path.join(directory, "source.parquet");
  await duckdb(sourceSql(literal(source)));
});

afterAll(async () => {
  await s3?.close();
  await rm(directory, { recursive: true, force: true });
});

function storeOptions(prefix: string, cache: string): S3StoreOptions {
  return { bucket: BUCKET, prefix, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(directory, cache) };
}

function config(prefix: string, version: FeatureVersion, options: Pick<BuildChildConfig, "force" | "crashAt" | "gates"> = {}): BuildChildConfig {
  return { store: { kind: "s3", options: storeOptions(prefix, "child-cache") }, source, version, features: FEATURES, ...options };
}

/** Definitions on a fresh S3Store (whose first check() removes what killed processes left in the temp directory). */
function definitions(prefix: string, version: FeatureVersion): Definitions {
  return new Definitions({ name: "crash", features: versionedFeatures({ source, version, features: FEATURES }), offlineStore: new S3Store(storeOptions(prefix, "reader-cache")) });
}

const other = (version: FeatureVersion): FeatureVersion => (version === 1 ? 2 : 1);

async function objectBytes(key: string): Promise<Buffer | undefined> {
  try {
    const response = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return Buffer.from(await response.Body!.transformToByteArray());
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

type StoreState = Map<string, { data: DataFacts; document: Record<string, unknown> | undefined }>;

/** Every feature's object, downloaded with a plain client and read by the test's own DuckDB, and its metadata document. */
async function bucketState(prefix: string): Promise<StoreState> {
  // Only whole features and documents under their own names: nothing temporary is ever uploaded.
  const keys = await s3.keys(BUCKET, prefix);
  const allowed = NAMES.flatMap((name) => [`${prefix}/${name}.parquet`, `${prefix}/_metadata/${name}.json`]);
  for (const key of keys) expect(allowed).toContain(key);
  const entries = await Promise.all(
    NAMES.map(async (name) => {
      const file = path.join(directory, `${randomUUID()}.parquet`);
      await writeFile(file, (await objectBytes(`${prefix}/${name}.parquet`))!);
      const data = await dataFacts(file);
      await rm(file);
      const text = (await objectBytes(`${prefix}/_metadata/${name}.json`))?.toString("utf8");
      return [name, { data, document: text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>) }] as const;
    }),
  );
  return new Map(entries);
}

/** The files S3Store staged in the OS temp directory for process `pid`. */
async function stagedFiles(pid: number): Promise<string[]> {
  const pattern = new RegExp(`^mlforge-s3-f\\d+-${pid}-[0-9a-f]+\\.parquet$`);
  return (await readdir(tmpdir())).filter((entry) => pattern.test(entry));
}

/** `read()` of every feature through a fresh S3Store: its metadata matches the data, whatever the document says. */
async function expectCoreAgrees(prefix: string, version: FeatureVersion, state: StoreState): Promise<void> {
  const defs = definitions(prefix, version);
  for (const name of NAMES) {
    const { data } = state.get(name)!;
    const frame = await defs.read(name);
    expect(frame.numRows).toBe(data.rows);
    expect(frame.metadata).toMatchObject({ name, rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint });
  }
}

/** After a complete build of `version`: every feature at that version, with the document of the same build. */
async function expectComplete(prefix: string, version: FeatureVersion): Promise<void> {
  const state = await bucketState(prefix);
  for (const name of NAMES) {
    const { data, document } = state.get(name)!;
    expect(data).toMatchObject({ version, rows: expectedRows(version) });
    expect(document).toMatchObject({ rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint });
  }
  expect((await s3.keys(BUCKET, prefix)).length).toBe(2 * FEATURES);
}

test("a build killed at any point leaves only whole objects, each feature its previous or its new version, and the next build completes it", async () => {
  const prefix = `killed/${randomUUID()}`;
  const first = startBuild(config(prefix, 1));
  await first.ready;
  const started = performance.now();
  expect(await first.exited).toMatchObject({ code: 0 });
  const span = performance.now() - started;
  await expectComplete(prefix, 1);

  const random = seededRandom(SEED);
  let current: FeatureVersion = 1;
  const seen = { mixed: 0, staleDocuments: 0, stagedLeftovers: 0 };
  for (const [round, kill] of [...CRASH_POINTS, ...killTimes(random, KILLS, span)].entries()) {
    const next = other(current);
    const child = startBuild(config(prefix, next, typeof kill === "number" ? {} : { crashAt: kill }));
    await child.ready;
    if (typeof kill === "number") {
      await sleep(kill);
      child.kill();
    }
    const outcome = await child.exited;
    const when = typeof kill === "number" ? `${kill} ms into a build of ${Math.round(span)} ms` : `at ${kill.operation}(${kill.feature})`;
    const context = `seed ${SEED}, round ${round}, killed ${when} (${outcome.signal ?? `exit ${outcome.code}`})`;
    if (typeof kill !== "number") expect({ context, signal: outcome.signal }).toEqual({ context, signal: "SIGKILL" });

    const state = await bucketState(prefix);
    for (const name of NAMES) {
      const { data, document } = state.get(name)!;
      expect([current, next]).toContain(data.version);
      expect(data.rows).toBe(expectedRows(data.version));
      if (document?.buildId !== data.buildId) {
        // Killed between the two uploads: the new data beside the previous build's document.
        expect({ context, name, version: data.version, documentRows: document?.rows }).toEqual({ context, name, version: next, documentRows: expectedRows(current) });
        seen.staleDocuments++;
      }
    }
    if (new Set(NAMES.map((name) => state.get(name)!.data.version)).size > 1) seen.mixed++;
    // Counted before anything else opens an S3Store here: a store's first check() removes them.
    seen.stagedLeftovers += (await stagedFiles(child.pid)).length;
    await expectCoreAgrees(prefix, next, state);

    // The next build rebuilds what the killed one did not finish and skips what it did; its store's
    // first check() removes the files the killed build staged in the temp directory.
    const result = await definitions(prefix, next).build();
    expect(result.failed).toEqual([]);
    expect(result.skipped.map((entry) => entry.name)).toEqual(
      NAMES.filter((name) => state.get(name)!.data.version === next && state.get(name)!.document?.buildId === state.get(name)!.data.buildId),
    );
    expect(await stagedFiles(child.pid)).toEqual([]);
    await expectComplete(prefix, next);
    current = next;
  }
  expect(seen.mixed).toBeGreaterThan(0);
  expect(seen.staleDocuments).toBeGreaterThanOrEqual(1);
  // The kill before the upload left its staged file behind, for the next build to remove.
  expect(seen.stagedLeftovers).toBeGreaterThan(0);
}, 90_000);

test("two builds of the same prefix at once both finish; each feature ends whole, read() reports its own data's metadata, and the next build repairs the documents", async () => {
  const prefix = `concurrent/${randomUUID()}`;
  const gate = (name: string) => path.join(directory, `gate-${name}`);
  // Exactly the worst order, through gate files: 1 uploads f1's data, 2 uploads f1's data and document, 1 uploads its document last.
  // (Free-running concurrent builds run on a LocalStore in packages/core/test/crash.test.ts.)
  const builds = [
    config(prefix, 1, {
      force: true,
      gates: [
        { when: "after", operation: "putFile", feature: "f1", create: gate("one-data") },
        { when: "before", operation: "putText", feature: "f1", waitFor: gate("two-document") },
      ],
    }),
    config(prefix, 2, {
      force: true,
      gates: [
        { when: "before", operation: "putFile", feature: "f1", waitFor: gate("one-data") },
        { when: "after", operation: "putText", feature: "f1", create: gate("two-document") },
      ],
    }),
  ];
  const outcomes = await Promise.all(builds.map((build) => startBuild(build).exited));
  for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 0 });
  const state = await bucketState(prefix);
  for (const name of NAMES) expect(state.get(name)!.data.rows).toBe(expectedRows(state.get(name)!.data.version));
  // A remote store does not download the data again to check it after each upload, so the last
  // document can belong to the other build; read() and the next build see through it.
  expect(state.get("f1")!.data.version).toBe(2);
  expect(state.get("f1")!.document).toMatchObject({ rows: expectedRows(1) });
  await expectCoreAgrees(prefix, 2, state);
  const result = await definitions(prefix, 2).build();
  expect(result.failed).toEqual([]);
  expect(result.built.map((entry) => entry.name)).toContain("f1");
  await expectComplete(prefix, 2);
}, 60_000);
