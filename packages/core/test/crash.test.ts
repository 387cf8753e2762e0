// Builds into a LocalStore killed with SIGKILL at seeded random points, and two builds of the same
// store at once: whatever happens, every feature stays whole, is one of its versions, and the
// metadata core reports matches it. MLFORGE_CRASH_SEED replays another sequence of kill points.
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions } from "@mlforge/core";
import { listFeatureNames } from "@mlforge/core/store-kit";
import { LocalStore } from "@mlforge/store-local";
import { dataFacts, duckdb, killTimes, literal, seededRandom, sleep, startBuild, type DataFacts } from "./support/build-children";
import { expectedRows, featureNames, sourceSql, versionedFeatures, type BuildChildConfig, type FeatureVersion } from "./support/versioned-features";

const SEED = Number(process.env.MLFORGE_CRASH_SEED ?? 7);
/** Kills at random points of a build. */
const KILLS = 9;
/** Kills at exact points first: before a data file is renamed into place, and between the data and the metadata write. */
const CRASH_POINTS: NonNullable<BuildChildConfig["crashAt"]>[] = [
  { operation: "putFile", feature: "f1" },
  { operation: "putText", feature: "f1" },
  { operation: "putText", feature: "f3" },
];
const FEATURES = 4;
const NAMES = featureNames(FEATURES);
/** A LocalStore temporary file: `.<feature>.<pid>.<random>.(parquet|json).tmp`. */
const TEMPORARY = /^\.(f\d+)\.(\d+)\.[0-9a-f]+\.(parquet|json)\.tmp$/;

let directory: string;
let source: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-crash-"));
  source = path.join(directory, "source.parquet");
  await duckdb(sourceSql(literal(source)));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

function config(store: string, version: FeatureVersion, options: Pick<BuildChildConfig, "force" | "crashAt" | "metadataDelayMs" | "gates"> = {}): BuildChildConfig {
  return { store: { kind: "local", path: store }, source, version, features: FEATURES, ...options };
}

function definitions(store: string, version: FeatureVersion): Definitions {
  return new Definitions({ name: "crash", features: versionedFeatures({ source, version, features: FEATURES }), offlineStore: new LocalStore(store) });
}

const other = (version: FeatureVersion): FeatureVersion => (version === 1 ? 2 : 1);

/** Every feature's data, read by the test's own DuckDB, and its metadata document as the raw file says. */
async function storeState(store: string): Promise<Map<string, { data: DataFacts; document: Record<string, unknown> | undefined }>> {
  const state = new Map<string, { data: DataFacts; document: Record<string, unknown> | undefined }>();
  for (const name of NAMES) {
    const data = await dataFacts(path.join(store, `${name}.parquet`));
    const text = await readFile(path.join(store, "_metadata", `${name}.json`), "utf8").catch(() => undefined);
    // A document is never half-written: it parses whenever it exists.
    state.set(name, { data, document: text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>) });
  }
  return state;
}

/** The files of the store that are neither features nor metadata documents: temporary files, which must belong to `pids`. */
async function temporaryFiles(store: string, pids: readonly number[]): Promise<string[]> {
  const found: string[] = [];
  for (const [folder, extension] of [
    ["", "parquet"],
    ["_metadata", "json"],
  ] as const) {
    for (const entry of await readdir(path.join(store, folder)).catch(() => [] as string[])) {
      if (entry === "_metadata" && folder === "") continue;
      if (!entry.startsWith(".")) {
        // Only whole features are visible under their own names.
        expect(NAMES.map((name) => `${name}.${extension}`)).toContain(entry);
        continue;
      }
      const match = TEMPORARY.exec(entry);
      expect(match).not.toBeNull();
      expect(pids).toContain(Number(match![2]));
      found.push(path.join(folder, entry));
    }
  }
  return found;
}

/** Asserts what core reports for every feature: `read()` with metadata that matches the data file. */
async function expectCoreAgrees(store: string, version: FeatureVersion, state: Awaited<ReturnType<typeof storeState>>): Promise<void> {
  const defs = definitions(store, version);
  expect(await listFeatureNames(new LocalStore(store))).toEqual(NAMES.filter((name) => state.get(name)!.document !== undefined));
  for (const name of NAMES) {
    const { data } = state.get(name)!;
    const frame = await defs.read(name);
    expect(frame.numRows).toBe(data.rows);
    expect(frame.metadata).toMatchObject({ name, rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint });
    expect(frame.metadata?.schema.map((column) => column.name)).toEqual(["k", "version", "total"]);
  }
}

/** After a complete build of `version`: every feature at that version, its document from the same build, no temporary file. */
async function expectComplete(store: string, version: FeatureVersion): Promise<void> {
  const state = await storeState(store);
  for (const name of NAMES) {
    const { data, document } = state.get(name)!;
    expect(data).toMatchObject({ version, rows: expectedRows(version) });
    expect(document).toMatchObject({ rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint });
  }
  expect(await temporaryFiles(store, [])).toEqual([]);
  expect(await listFeatureNames(new LocalStore(store))).toEqual(NAMES);
}

test("a build killed at any point loses nothing: each feature is its previous or its new version, and the next build completes it", async () => {
  const store = path.join(directory, "killed");
  // The previous version, built whole by a child that is not killed; its duration sets the span of the kill points.
  const first = startBuild(config(store, 1));
  await first.ready;
  const started = performance.now();
  expect(await first.exited).toMatchObject({ code: 0 });
  const span = performance.now() - started;
  await expectComplete(store, 1);

  const random = seededRandom(SEED);
  let current: FeatureVersion = 1;
  const seen = { mixed: 0, staleDocuments: 0, leftovers: 0 };
  const rounds = [...CRASH_POINTS, ...killTimes(random, KILLS, span)];
  for (const [round, kill] of rounds.entries()) {
    const next = other(current);
    const child = startBuild(config(store, next, typeof kill === "number" ? {} : { crashAt: kill }));
    await child.ready;
    if (typeof kill === "number") {
      await sleep(kill);
      child.kill();
    }
    const outcome = await child.exited;
    const when = typeof kill === "number" ? `${kill} ms into a build of ${Math.round(span)} ms` : `at ${kill.operation}(${kill.feature})`;
    const context = `seed ${SEED}, round ${round}, killed ${when} (${outcome.signal ?? `exit ${outcome.code}`})`;
    if (typeof kill !== "number") expect({ context, signal: outcome.signal }).toEqual({ context, signal: "SIGKILL" });

    const state = await storeState(store).catch((error: Error) => {
      throw new Error(`${context}: ${error.message}`);
    });
    for (const name of NAMES) {
      const { data, document } = state.get(name)!;
      // Whole, and one of the two versions with its known row count.
      expect([current, next]).toContain(data.version);
      expect(data.rows).toBe(expectedRows(data.version));
      // The document is the data's, or (killed between the two writes) the previous build's.
      if (document?.buildId !== data.buildId) {
        expect({ context, name, version: data.version }).toEqual({ context, name, version: next });
        if (document !== undefined) expect(document.rows).toBe(expectedRows(current));
        seen.staleDocuments++;
      }
    }
    if (new Set(NAMES.map((name) => state.get(name)!.data.version)).size > 1) seen.mixed++;
    seen.leftovers += (await temporaryFiles(store, [child.pid])).length;
    await expectCoreAgrees(store, next, state);

    // The next build removes the killed build's temporary files, rebuilds what it did not finish,
    // and skips (repairing the document when needed) what it did.
    const result = await definitions(store, next).build();
    expect(result.failed).toEqual([]);
    expect(result.skipped.map((entry) => entry.name)).toEqual(NAMES.filter((name) => state.get(name)!.data.version === next));
    await expectComplete(store, next);
    current = next;
  }
  // The kill points were spread over the build: some landed between two features.
  expect(seen.mixed).toBeGreaterThan(0);
}, 90_000);

/** Two builds of `store` at once, then what they left: whole features whose documents match their data. */
async function buildConcurrently(store: string, builds: readonly BuildChildConfig[]): Promise<void> {
  const outcomes = await Promise.all(builds.map((build) => startBuild(build).exited));
  for (const outcome of outcomes) expect(outcome).toMatchObject({ code: 0 });
  const state = await storeState(store);
  for (const name of NAMES) {
    const { data, document } = state.get(name)!;
    expect(data.rows).toBe(expectedRows(data.version));
    // A build that publishes a document checks the data file after it and rewrites the document
    // when the other build replaced the file meanwhile: the last document matches the data.
    expect({ name, document }).toMatchObject({ document: { rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint } });
  }
  expect(await temporaryFiles(store, [])).toEqual([]);
  await expectCoreAgrees(store, 2, state);
  const result = await definitions(store, 2).build();
  expect(result.skipped.map((entry) => entry.name)).toEqual(NAMES.filter((name) => state.get(name)!.data.version === 2));
  await expectComplete(store, 2);
}

test("two builds of the same store at once both finish, and every feature ends whole with the metadata of its own data", async () => {
  const store = path.join(directory, "concurrent");
  // Exactly the worst order, through gate files: 1 puts f1's data, 2 puts f1's data and document, 1 puts its document last.
  const gate = (name: string) => path.join(directory, `gate-${name}`);
  await buildConcurrently(store, [
    config(store, 1, {
      force: true,
      gates: [
        { when: "after", operation: "putFile", feature: "f1", create: gate("one-data") },
        { when: "before", operation: "putText", feature: "f1", waitFor: gate("two-document") },
      ],
    }),
    config(store, 2, {
      force: true,
      gates: [
        { when: "before", operation: "putFile", feature: "f1", waitFor: gate("one-data") },
        { when: "after", operation: "putText", feature: "f1", create: gate("two-document") },
      ],
    }),
  ]);
  expect((await dataFacts(path.join(store, "f1.parquet"))).version).toBe(2);
  // Free running, one build writing its documents a little late, so that the other one's data often lands in between.
  await buildConcurrently(store, [config(store, 1, { force: true, metadataDelayMs: 150 }), config(store, 2, { force: true })]);
}, 60_000);
