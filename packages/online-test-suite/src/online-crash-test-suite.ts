import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { OnlineSyncError, type Definitions, type OnlineStore } from "@mlforge/core";
import { eventually, killChildren, killTimes, seededRandom, sleep, within, type ChildOutcome } from "@mlforge/test-support/processes";
import { buildNumbered, NUMBERED_FEATURE, NUMBERED_KEYS, numberedDefinitions, numberedRows, numberedSourceCsv } from "./build-numbered";
import type { OnlineStoreDescription } from "./online-store-description";
import { startSync, type SyncChildConfig } from "./sync-children";

/** The subset of Jest's (or Vitest's) `test` that the crash suite needs: a name, a body and a timeout in milliseconds. */
export type TimedTestFunction = (name: string, body: () => Promise<void>, timeout?: number) => unknown;

/** Options of `onlineCrashTestSuite`. */
export interface OnlineCrashTestSuiteOptions {
  /** A fresh, empty online store (a new directory, a new server or prefix) as a sync child constructs it. Called once per test. */
  describeStore(): OnlineStoreDescription | Promise<OnlineStoreDescription>;
  /** The same store constructed in the test process, where the suite reads it and runs syncs. */
  openStore(description: OnlineStoreDescription): OnlineStore;
  /**
   * Every namespace the backend holds keys for, with how many, read around the store (LMDB's
   * entries, Redis keys through SCAN): the suite checks that nothing is left outside what
   * `listNamespaces` and `count` report.
   */
  backendNamespaces(description: OnlineStoreDescription): Promise<Record<string, number>>;
  /** Replays another sequence of random kill points. @default 11 */
  seed?: number;
  /** Syncs killed at random points. @default 6 */
  kills?: number;
}

const POINTERS = "mlforge.pointers";

/**
 * Generous bounds on single steps (two shared cores): a step that takes longer has hung, and its
 * test fails saying which step, well before Jest's own timeout.
 */
const CHILD_MS = 60_000;
const STEP_MS = 90_000;

/** The entities readers ask for: 300 keys spread over the source, odd and even. */
const ENTITIES = Array.from({ length: 300 }, (_, index) => ({ k: (index * 131 + 7) % NUMBERED_KEYS }));

/**
 * The build a response holds, failing unless it is one build whole: every value of every row the
 * same build number, every key of that build present and no other.
 */
export function wholeBuild(rows: ReadonlyArray<Record<string, unknown>>, context = ""): number {
  const builds = new Set(rows.flatMap((row) => [row.build, row.a, row.b]).filter((value) => value !== null));
  assert.equal(builds.size, 1, `${context}: one response holds values of exactly one build, got [${[...builds].join(", ")}]`);
  const build = Number([...builds][0]);
  for (const row of rows) {
    const held = build % 2 === 1 || Number(row.k) % 2 === 0;
    const expected = held ? { k: row.k, build, a: build, b: build } : { k: row.k, build: null, a: null, b: null };
    assert.deepEqual({ k: row.k, build: row.build, a: row.a, b: row.b }, expected, `${context}: entity ${String(row.k)} of build ${build}`);
  }
  return build;
}

/**
 * Readers still reading and Definitions still open, stopped and closed when a test ends however it
 * ends: after a failed assertion, a reader left running read every 2 ms forever and its store stayed
 * open, so the test process never exited.
 */
const readers = new Set<{ stop(): Promise<unknown> }>();
const opened = new Set<Definitions>();

/** `numberedDefinitions`, closed when the test ends if the test has not closed it. */
function definitions(...args: Parameters<typeof numberedDefinitions>): Definitions {
  const defs = numberedDefinitions(...args);
  opened.add(defs);
  return defs;
}

/** Reads in a loop until stopped; every response must be one build whole and no call may fail. */
function startReader(defs: Definitions): { stop(): Promise<{ reads: number; seen: number[] }> } {
  let stopped = false;
  let reads = 0;
  const seen = new Set<number>();
  const loop = (async () => {
    while (!stopped) {
      const rows = await defs.getOnlineFeatures({ features: [NUMBERED_FEATURE], entities: ENTITIES });
      seen.add(wholeBuild(rows, `read ${reads}`));
      reads += 1;
      await sleep(2);
    }
  })();
  const reader = {
    async stop() {
      stopped = true;
      readers.delete(reader);
      await loop;
      return { reads, seen: [...seen].sort((a, b) => a - b) };
    },
  };
  readers.add(reader);
  return reader;
}

/** A temporary project: the source CSV and offline LocalStores, removed afterwards. */
interface Project {
  source: string;
  /** A new offline store directory. */
  offline(name: string): string;
}

async function withProject(body: (project: Project) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-crash-"));
  try {
    const source = path.join(directory, "source.csv");
    await writeFile(source, numberedSourceCsv());
    await body({ source, offline: (name) => path.join(directory, name) });
  } finally {
    // Sync children still running are killed when a test ends however it ends, so none outlives it.
    killChildren();
    await Promise.allSettled([...readers].map((reader) => reader.stop()));
    await Promise.allSettled([...opened].map((defs) => defs.close()));
    opened.clear();
    await rm(directory, { recursive: true, force: true });
  }
}

/**
 * Crash and concurrency tests any online store can opt into: syncs in child processes killed with
 * SIGKILL at seeded random points while the test process reads, and two syncs of one feature at
 * once. Readers only ever see one build whole, never an error; the next sync completes and leaves
 * exactly one namespace of the feature besides the pointers. Each test takes half a minute or more.
 */
export function onlineCrashTestSuite(test: TimedTestFunction, options: OnlineCrashTestSuiteOptions): void {
  const seed = options.seed ?? 11;

  const buildOffline = buildNumbered;

  /** A fresh store of `description`, closed afterwards. */
  async function withStore<T>(description: OnlineStoreDescription, body: (store: OnlineStore) => Promise<T>): Promise<T> {
    const store = options.openStore(description);
    try {
      return await body(store);
    } finally {
      await store.close();
    }
  }

  /** The build served now, read whole through fresh `Definitions`, and the namespace the pointer names holding exactly that build's rows. */
  async function served(description: OnlineStoreDescription, project: Project, context: string): Promise<{ build: number; namespace: string }> {
    return withStore(description, async (store) => {
      const defs = definitions(store, project.source, project.offline("unused"));
      const build = wholeBuild(await defs.getOnlineFeatures({ features: [NUMBERED_FEATURE], entities: ENTITIES }), context);
      const [[text]] = (await store.get([{ namespace: POINTERS, keys: [NUMBERED_FEATURE] }])) as [[string]];
      const namespace = (JSON.parse(text) as { namespace: string }).namespace;
      assert.equal(await store.count(namespace), numberedRows(build), `${context}: the namespace readers use holds build ${build} whole`);
      return { build, namespace };
    });
  }

  /** Exactly one namespace of the feature, holding `build` whole, and the pointers: through the store and around it. */
  async function expectOnlyCurrent(description: OnlineStoreDescription, build: number, namespace: string): Promise<void> {
    await withStore(description, async (store) => {
      assert.deepEqual([...(await store.listNamespaces(""))].sort(), [namespace, POINTERS].sort(), "the store lists one namespace of the feature and the pointers");
      assert.equal(await store.count(namespace), numberedRows(build));
      assert.equal(await store.count(POINTERS), 1);
    });
    assert.deepEqual({ ...(await options.backendNamespaces(description)) }, { [namespace]: numberedRows(build), [POINTERS]: 1 }, "the backend holds nothing else");
  }

  const describeOutcome = (outcome: ChildOutcome) => `${outcome.signal ?? `exit ${outcome.code}`}${outcome.stderr === "" ? "" : `: ${outcome.stderr}`}`;

  test(
    "a sync killed at any point: readers see the previous or the new build whole, never an error; the next sync completes and leaves one namespace",
    () =>
      withProject(async (project) => {
        const description = await options.describeStore();
        const offline = project.offline("feature_store");
        const config: SyncChildConfig = { onlineStore: description, offlineStore: offline, source: project.source, batchRows: 250 };
        await buildOffline(project.source, offline, 1);
        // The first build, synced whole by a child that is not killed; its duration sets the span of
        // the kill points, widened since the reader slows later syncs down: some kills land after the switch.
        const first = startSync(config);
        await within(first.ready, CHILD_MS, "the first sync child starting");
        const started = performance.now();
        const firstOutcome = await within(first.exited, STEP_MS, "the first sync child (not killed) finishing");
        assert.equal(firstOutcome.code, 0, describeOutcome(firstOutcome));
        const span = performance.now() - started;
        let current = (await within(served(description, project, "after the first sync"), STEP_MS, "reading after the first sync")).build;
        assert.equal(current, 1);

        const readerStore = options.openStore(description);
        const reader = definitions(readerStore, project.source, offline);
        const reading = startReader(reader);
        let latest = 1;
        const rounds: string[] = [];
        try {
          for (const [round, kill] of killTimes(seededRandom(seed), options.kills ?? 6, span * 1.5).entries()) {
            latest += 1;
            await buildOffline(project.source, offline, latest);
            const child = startSync(config);
            await within(child.ready, CHILD_MS, `seed ${seed}, round ${round}: the sync child starting`);
            await sleep(kill);
            child.kill();
            const outcome = await within(child.exited, CHILD_MS, `seed ${seed}, round ${round}: the sync child exiting after SIGKILL`);
            const context = `seed ${seed}, round ${round}, killed ${kill} ms into a sync (the first took ${Math.round(span)} ms) (${describeOutcome(outcome)})`;
            assert.ok(outcome.signal === "SIGKILL" || outcome.code === 0, context);
            const now = await within(served(description, project, context), STEP_MS, `${context}: reading the build served`);
            // Killed before the switch: the previous build; after it (or finished first): the new one.
            assert.ok([current, latest].includes(now.build), `${context}: serves build ${now.build}, not ${current} or ${latest}`);
            if (outcome.code === 0) assert.equal(now.build, latest, context);
            rounds.push(`${kill} ms: build ${now.build}`);
            current = now.build;
          }
        } finally {
          const { reads, seen } = await within(reading.stop(), STEP_MS, "the reader's last read");
          // Every read was checked whole; enough of them ran to overlap the syncs.
          assert.ok(reads > 20, `the reader read only ${reads} times`);
          assert.ok(seen.every((build) => build >= 1 && build <= latest), `seen ${seen.join(", ")}`);
        }

        if (process.env.MLFORGE_CRASH_VERBOSE) console.log(`span ${Math.round(span)} ms; ${rounds.join("; ")}`);
        // A normal sync of a new build completes, readers get it, and with grace 0 nothing else is left.
        latest += 1;
        await buildOffline(project.source, offline, latest);
        await withStore(description, async (store) => {
          const writer = definitions(store, project.source, offline, latest);
          const result = await within(writer.syncOnline({ graceMs: 0, batchRows: 1000 }), STEP_MS, `the sync in the test process after the killed ones (${rounds.join("; ")})`);
          assert.deepEqual(result.synced.map((entry) => [entry.name, entry.rows]), [[NUMBERED_FEATURE, numberedRows(latest)]], rounds.join("; "));
          assert.equal(wholeBuild(await writer.getOnlineFeatures({ features: [NUMBERED_FEATURE], entities: ENTITIES }), "the writer"), latest);
        });
        // Another process's reader (here: another Definitions with its cached pointer) gets the new build within 5 s.
        await eventually(async () => assert.equal(wholeBuild(await reader.getOnlineFeatures({ features: [NUMBERED_FEATURE], entities: ENTITIES }), "the reader"), latest), 5_000);
        await reader.close();
        const now = await within(served(description, project, "after the final sync"), STEP_MS, "reading after the final sync");
        assert.equal(now.build, latest);
        await within(expectOnlyCurrent(description, latest, now.namespace), STEP_MS, "listing what the store holds after the final sync");
      }),
    240_000,
  );

  test(
    "two syncs of one feature at once (same build in one process, different builds in two processes): each finishes or fails clearly, readers see one build whole, the next sync leaves one namespace",
    () =>
      withProject(async (project) => {
        const description = await options.describeStore();
        const offlineOne = project.offline("store_one");
        const offlineTwo = project.offline("store_two");
        await buildOffline(project.source, offlineOne, 1);
        await buildOffline(project.source, offlineTwo, 2);

        // The same build, two Definitions of one process, forced, with a grace period each removes after.
        const first = definitions(options.openStore(description), project.source, offlineOne);
        const second = definitions(options.openStore(description), project.source, offlineOne);
        await first.syncOnline({ graceMs: 0 });
        const reader = definitions(options.openStore(description), project.source, offlineOne);
        let reading = startReader(reader);
        const settled = await Promise.allSettled([first.syncOnline({ force: true, graceMs: 1_500, batchRows: 500 }), second.syncOnline({ force: true, graceMs: 1_500, batchRows: 500 })]);
        for (const outcome of settled) {
          if (outcome.status === "rejected") assert.ok(OnlineSyncError.isInstance(outcome.reason), `a sync fails clearly, not with ${String(outcome.reason)}`);
        }
        assert.ok(settled.some((outcome) => outcome.status === "fulfilled"), "at least one of the two syncs finishes");
        assert.equal((await served(description, project, "after two syncs of the same build")).build, 1);
        // Each process removes what it replaced once the grace period ends.
        await sleep(2_500);
        await Promise.all([first.close(), second.close()]);
        const afterGrace = await served(description, project, "after the grace period");
        await expectOnlyCurrent(description, 1, afterGrace.namespace);
        let { seen } = await reading.stop();
        assert.deepEqual(seen, [1]);

        // Different builds, two processes, forced, while the test process reads.
        reading = startReader(reader);
        const children = [offlineOne, offlineTwo].map((offline) =>
          startSync({ onlineStore: description, offlineStore: offline, source: project.source, graceMs: 1_000, batchRows: 250 }),
        );
        const outcomes = await within(Promise.all(children.map((child) => child.exited)), STEP_MS, "two racing sync children finishing");
        for (const outcome of outcomes) {
          assert.ok(outcome.code === 0 || (outcome.code === 1 && /^failed \{"name":"OnlineSyncError"/m.test(outcome.stdout)), `a sync finishes or fails clearly: ${describeOutcome(outcome)} ${outcome.stdout}`);
        }
        assert.ok(outcomes.some((outcome) => outcome.code === 0), "at least one of the two syncs finishes");
        ({ seen } = await reading.stop());
        assert.ok(seen.every((build) => build === 1 || build === 2), `seen ${seen.join(", ")}`);
        const now = await served(description, project, "after two syncs of different builds");
        // The processes have exited before their grace period ended: the next sync removes what they left.
        await sleep(1_500);
        await withStore(description, async (store) => {
          const next = definitions(store, project.source, now.build === 1 ? offlineOne : offlineTwo, now.build);
          const result = await next.syncOnline({ graceMs: 0 });
          assert.deepEqual(result.skipped.map((entry) => entry.name), [NUMBERED_FEATURE], "the build served is current: skipped");
        });
        await reader.close();
        await expectOnlyCurrent(description, now.build, now.namespace);
      }),
    180_000,
  );
}
