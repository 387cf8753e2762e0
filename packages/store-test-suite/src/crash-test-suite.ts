import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, type BuildResult, type OfflineStore } from "@mlforge/core";
import { dataKey, listFeatureNames, metadataKey } from "@mlforge/core/store-kit";
import { literal, query } from "@mlforge/test-support";
import { killChildren, killTimes, seededRandom, sleep } from "@mlforge/test-support/processes";
import { dataFacts, startBuild, type DataFacts } from "./build-children";
import type { StoreDescription } from "./store-description";
import { expectedRows, featureNames, sourceSql, versionedFeatures, type BuildChildConfig, type FeatureVersion } from "./versioned-features";

/** The subset of Jest's (or Vitest's) `test` that the crash suite needs: a name, a body and a timeout in milliseconds. */
export type TimedTestFunction = (name: string, body: () => Promise<void>, timeout?: number) => unknown;

/**
 * A store operation at which a build child kills itself (SIGKILL), as it is called on a feature's
 * current key. A build stores its version first, then makes it current with `copy` (or, with
 * versions off or the copy refused, `putFile`), then writes the current document with `putText`.
 */
export interface CrashPoint {
  operation: "putFile" | "putText" | "copy";
  /** One of `f0`…`f3`. */
  feature: string;
}

/** Options of `crashTestSuite`. */
export interface CrashTestSuiteOptions {
  /** A fresh, empty store (a new directory or prefix) as a build child constructs it. Called once per test. */
  describeStore(): StoreDescription | Promise<StoreDescription>;
  /** The same store constructed in the test process, where the suite reads it and runs the next build. */
  openStore(description: StoreDescription): OfflineStore;
  /**
   * The keys of every object the backend holds for the store, read around the store (a directory
   * listing, a bucket listing) and without its temporary files: the suite checks that only whole
   * features and documents are ever there under store keys.
   */
  storedKeys(description: StoreDescription): Promise<string[]>;
  /**
   * The temporary or staged files build process `pid` left for the store, read around the store; a
   * killed build may leave some, and the next build's `check()` must remove them.
   */
  leftovers(description: StoreDescription, pid: number): Promise<string[]>;
  /** Replays another sequence of random kill points. @default 7 */
  seed?: number;
  /** Kills at random points of a build. @default 9 */
  kills?: number;
  /** Kills at exact points first. @default before f1's data is made current (its version stored), between f1's data and document, and between f3's */
  crashPoints?: CrashPoint[];
  /** Also run two builds at once free-running, one writing its documents late (the worst order always runs). @default true */
  freeRunning?: boolean;
}

const FEATURES = 4;
const NAMES = featureNames(FEATURES);
const KEYS = NAMES.flatMap((name) => [dataKey(name), metadataKey(name)]).sort();
/** A kept version's data or document: `_versions/<feature>/<buildId>.(parquet|json)`. */
const VERSION_KEY = /^_versions\/(f\d+)\/([0-9a-f]{32})\.(json|parquet)$/;

/** Per feature: its current data, its current document, and the build ids of its listed versions (those with a document). */
type StoreState = Map<string, { data: DataFacts; document: Record<string, unknown> | undefined; versions: Set<string> }>;

const other = (version: FeatureVersion): FeatureVersion => (version === 1 ? 2 : 1);

/**
 * Crash and concurrency tests any store can opt into: builds in child processes killed with SIGKILL
 * at exact and at seeded random points, and two builds of the same store at once. Whatever happens,
 * only whole features are visible, each is one of its versions, the metadata core reports matches
 * the data, and the next build completes everything. Each test takes half a minute or more.
 */
export function crashTestSuite(test: TimedTestFunction, options: CrashTestSuiteOptions): void {
  const seed = options.seed ?? 7;
  const crashPoints = options.crashPoints ?? [
    { operation: "copy", feature: "f1" },
    { operation: "putText", feature: "f1" },
    { operation: "putText", feature: "f3" },
  ];

  /** Runs `body` with the versioned features' source written to a temporary directory, removed afterwards. */
  async function withSource(body: (source: string, directory: string) => Promise<void>): Promise<void> {
    const directory = await mkdtemp(path.join(tmpdir(), "mlforge-crash-"));
    try {
      const source = path.join(directory, "source.parquet");
      await query(sourceSql(literal(source)));
      await body(source, directory);
    } finally {
      // A test that failed halfway leaves no build child running (one would keep Jest from exiting).
      killChildren();
      await rm(directory, { recursive: true, force: true });
    }
  }

  // Copied into arrays of this realm: under Jest, Node's own arrays (from readdir) never deep-equal the test's.
  const storedKeys = async (description: StoreDescription): Promise<string[]> => [...(await options.storedKeys(description))];
  const leftoversOf = async (description: StoreDescription, pid: number): Promise<string[]> => [...(await options.leftovers(description, pid))];

  /** Runs `body` with a fresh store of `description`, closed afterwards. */
  async function withStore<T>(description: StoreDescription, body: (store: OfflineStore) => Promise<T>): Promise<T> {
    const store = options.openStore(description);
    try {
      return await body(store);
    } finally {
      await store.close();
    }
  }

  function definitions(description: StoreDescription, source: string, version: FeatureVersion): Definitions {
    return new Definitions({ name: "crash", features: versionedFeatures({ source, version, features: FEATURES }), offlineStore: options.openStore(description) });
  }

  /** A build of `version` through a fresh store, closed however the build ends. */
  async function buildVersion(description: StoreDescription, source: string, version: FeatureVersion): Promise<BuildResult> {
    const defs = definitions(description, source, version);
    try {
      return await defs.build();
    } finally {
      await defs.close();
    }
  }

  /**
   * Every feature's data, read by the suite's own DuckDB, its metadata document and its listed
   * versions, through a fresh store; only store keys are in the backend, every listed version has
   * its data, and each feature's current build is kept as a version (it was stored as one first).
   */
  async function storeState(description: StoreDescription): Promise<StoreState> {
    const keys = await storedKeys(description);
    for (const key of keys) assert.ok(KEYS.includes(key) || VERSION_KEY.test(key), `the store holds '${key}', which is neither a whole feature, a document nor a kept version`);
    for (const key of keys.filter((key) => key.endsWith(".json") && VERSION_KEY.test(key))) {
      assert.ok(keys.includes(key.replace(/\.json$/, ".parquet")), `version '${key}' is listed without its data`);
    }
    return withStore(description, async (store) => {
      const state: StoreState = new Map();
      for (const name of NAMES) {
        const file = await store.getFile(dataKey(name));
        assert.ok(file !== undefined, `feature ${name} has no data`);
        const text = await store.getText(metadataKey(name));
        const versions = new Set(keys.map((key) => VERSION_KEY.exec(key)).filter((match) => match?.[1] === name && match[3] === "json").map((match) => match![2]!));
        // A document is never half-written: it parses whenever it exists.
        state.set(name, { data: await dataFacts(file), document: text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>), versions });
        assert.ok(versions.has(state.get(name)!.data.buildId), `feature ${name}'s current build ${state.get(name)!.data.buildId} is not kept as a version`);
      }
      return state;
    });
  }

  /** `read()` and `list` through a fresh store: the metadata core reports matches each feature's data, whatever the document says. */
  async function expectCoreAgrees(description: StoreDescription, source: string, version: FeatureVersion, state: StoreState): Promise<void> {
    const defs = definitions(description, source, version);
    try {
      assert.deepEqual([...(await withStore(description, listFeatureNames))], NAMES.filter((name) => state.get(name)!.document !== undefined));
      for (const name of NAMES) {
        const { data } = state.get(name)!;
        const frame = await defs.read(name);
        assert.equal(frame.numRows, data.rows);
        assert.deepEqual(
          { name: frame.metadata?.name, rows: frame.metadata?.rows, buildId: frame.metadata?.buildId, fingerprint: frame.metadata?.fingerprint },
          { name, rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint },
        );
        assert.deepEqual(frame.metadata?.schema.map((column) => column.name), ["k", "version", "total"]);
      }
    } finally {
      await defs.close();
    }
  }

  /** After a complete build of `version`: every feature at that version with the document of the same build, every key there. */
  async function expectComplete(description: StoreDescription, version: FeatureVersion): Promise<void> {
    const state = await storeState(description);
    for (const name of NAMES) {
      const { data, document } = state.get(name)!;
      assert.deepEqual({ name, version: data.version, rows: data.rows }, { name, version, rows: expectedRows(version) });
      assert.deepEqual(
        { name, rows: document?.rows, buildId: document?.buildId, fingerprint: document?.fingerprint },
        { name, rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint },
      );
    }
    assert.deepEqual((await storedKeys(description)).filter((key) => !VERSION_KEY.test(key)).sort(), KEYS);
  }

  /** The features the next build of `version` skips: those already at it, whose document matches unless the store serves files in place (core then repairs it). */
  function skippable(state: StoreState, version: FeatureVersion, inPlace: boolean): string[] {
    return NAMES.filter((name) => state.get(name)!.data.version === version && (inPlace || state.get(name)!.document?.buildId === state.get(name)!.data.buildId));
  }

  test(
    "a build killed at any point loses nothing: each feature is its previous or its new version, and the next build completes it",
    () =>
      withSource(async (source) => {
        const description = await options.describeStore();
        const inPlace = await withStore(description, async (store) => store.capabilities.servesFilesInPlace);
        const config = (version: FeatureVersion, crashAt?: CrashPoint): BuildChildConfig => ({ store: description, source, version, features: FEATURES, ...(crashAt ? { crashAt } : {}) });
        // The previous version, built whole by a child that is not killed; its duration sets the span of the kill points.
        const first = startBuild(config(1));
        await first.ready;
        const started = performance.now();
        const firstOutcome = await first.exited;
        assert.equal(firstOutcome.code, 0, firstOutcome.stderr);
        const span = performance.now() - started;
        await expectComplete(description, 1);

        let current: FeatureVersion = 1;
        let staleDocuments = 0;
        for (const [round, kill] of [...crashPoints, ...killTimes(seededRandom(seed), options.kills ?? 9, span)].entries()) {
          const next = other(current);
          const child = startBuild(config(next, typeof kill === "number" ? undefined : kill));
          await child.ready;
          if (typeof kill === "number") {
            await sleep(kill);
            child.kill();
          }
          const outcome = await child.exited;
          const when = typeof kill === "number" ? `${kill} ms into a build of ${Math.round(span)} ms` : `at ${kill.operation}(${kill.feature})`;
          const context = `seed ${seed}, round ${round}, killed ${when} (${outcome.signal ?? `exit ${outcome.code}`})`;
          if (typeof kill !== "number") assert.equal(outcome.signal, "SIGKILL", `${context}: ${outcome.stderr}`);

          // Counted before anything opens the store here: a store's first check() removes them.
          const leftovers = await leftoversOf(description, child.pid);
          // The kill before a staged file is put leaves it, for the next check() to remove.
          if (typeof kill !== "number" && kill.operation === "putFile") assert.ok(leftovers.length > 0, `${context}: no staged file left`);
          const state = await storeState(description).catch((error: Error) => {
            throw new Error(`${context}: ${error.message}`);
          });
          for (const name of NAMES) {
            const { data, document } = state.get(name)!;
            // Whole, and one of the two versions with its known row count.
            assert.ok([current, next].includes(data.version), `${context}: ${name} is version ${data.version}`);
            assert.equal(data.rows, expectedRows(data.version), `${context}: ${name}`);
            // The document is the data's, or (killed between the two writes) the previous build's beside the new data.
            if (document?.buildId !== data.buildId) {
              assert.deepEqual({ context, name, version: data.version, documentRows: document?.rows }, { context, name, version: next, documentRows: expectedRows(current) });
              staleDocuments++;
            }
          }
          if (typeof kill !== "number") {
            // Features are published one after the other: those before the crash point are new, those after it old.
            const crashed = NAMES.indexOf(kill.feature);
            const expected = NAMES.map((name, index) => (index < crashed || (index === crashed && kill.operation === "putText") ? next : current));
            assert.deepEqual(NAMES.map((name) => state.get(name)!.data.version), expected, context);
          }
          await expectCoreAgrees(description, source, next, state);

          // The next build removes the killed build's temporary files, rebuilds what it did not
          // finish, and skips (repairing the document where the store allows) what it did.
          const result = await buildVersion(description, source, next);
          assert.deepEqual(result.failed, [], context);
          assert.deepEqual(result.skipped.map((entry) => entry.name), skippable(state, next, inPlace), context);
          assert.deepEqual(await leftoversOf(description, child.pid), [], context);
          await expectComplete(description, next);
          current = next;
        }
        // A crash between the data and the document left the new data beside the previous document.
        if (crashPoints.some((point) => point.operation === "putText")) assert.ok(staleDocuments > 0);
      }),
    150_000,
  );

  /** Two builds of one store at once, then what they left: whole features, core's metadata matching the data, and the next build completing it. */
  async function buildConcurrently(description: StoreDescription, source: string, builds: readonly BuildChildConfig[], inPlace: boolean): Promise<StoreState> {
    const children = builds.map((build) => startBuild(build));
    const outcomes = await Promise.all(children.map((child) => child.exited));
    for (const outcome of outcomes) assert.equal(outcome.code, 0, outcome.stderr);
    for (const child of children) assert.deepEqual(await leftoversOf(description, child.pid), []);
    const state = await storeState(description);
    for (const name of NAMES) {
      const { data, document } = state.get(name)!;
      assert.equal(data.rows, expectedRows(data.version));
      // A store that serves files in place has each build check the data file after writing a
      // document, and rewrite the document when the other build replaced the file meanwhile.
      if (inPlace) assert.deepEqual({ name, rows: document?.rows, buildId: document?.buildId, fingerprint: document?.fingerprint }, { name, rows: data.rows, buildId: data.buildId, fingerprint: data.fingerprint });
    }
    await expectCoreAgrees(description, source, 2, state);
    const result = await buildVersion(description, source, 2);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.skipped.map((entry) => entry.name), skippable(state, 2, inPlace));
    await expectComplete(description, 2);
    return state;
  }

  test(
    "two builds of the same store at once both finish, and every feature ends whole with read() reporting the metadata of its own data",
    () =>
      withSource(async (source, directory) => {
        const description = await options.describeStore();
        const inPlace = await withStore(description, async (store) => store.capabilities.servesFilesInPlace);
        const config = (version: FeatureVersion, extra: Pick<BuildChildConfig, "gates" | "metadataDelayMs">): BuildChildConfig => ({ store: description, source, version, features: FEATURES, force: true, ...extra });
        // Exactly the worst order, through gate files: 1 makes f1's data current, 2 makes its own f1 data current and writes its document, 1 writes its document last.
        const gate = (name: string) => path.join(directory, `gate-${name}`);
        const state = await buildConcurrently(
          description,
          source,
          [
            config(1, {
              gates: [
                { when: "after", operation: "copy", feature: "f1", create: gate("one-data") },
                { when: "before", operation: "putText", feature: "f1", waitFor: gate("two-document") },
              ],
            }),
            config(2, {
              gates: [
                { when: "before", operation: "copy", feature: "f1", waitFor: gate("one-data") },
                { when: "after", operation: "putText", feature: "f1", create: gate("two-document") },
              ],
            }),
          ],
          inPlace,
        );
        assert.equal(state.get("f1")!.data.version, 2);
        // A store that does not serve files in place does not download the data again to check it
        // after each upload: the last document is the other build's, and read() sees through it.
        if (!inPlace) assert.equal(state.get("f1")!.document?.rows, expectedRows(1));
        // Free running, one build writing its documents a little late, so that the other one's data often lands in between.
        if (options.freeRunning ?? true) await buildConcurrently(description, source, [config(1, { metadataDelayMs: 150 }), config(2, {})], inPlace);
      }),
    90_000,
  );
}
