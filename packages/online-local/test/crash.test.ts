// LocalOnlineStore under the online crash suite: syncs in child processes killed with SIGKILL at
// seeded random points while this process reads, and two syncs of one feature at once.
// MLFORGE_CRASH_SEED replays another sequence of kill points. Runs by default: it once caught
// MDB_PANIC after killed syncs (lmdb-js's overlappingSync, see LMDB_ENVIRONMENT_OPTIONS).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { open } from "lmdb";
import { LMDB_ENVIRONMENT_OPTIONS, LocalOnlineStore } from "@mlforge/online-local";
import { onlineCrashTestSuite, type OnlineStoreDescription } from "@mlforge/online-test-suite";

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-local-crash-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const storePath = (description: OnlineStoreDescription) => description.options as string;

// A slow tier: with MLFORGE_SLOW_TESTS=0 (.ci/run's second Node version) Jest reports its tests as skipped.
const slowTiers = process.env.MLFORGE_SLOW_TESTS !== "0";

onlineCrashTestSuite(slowTiers ? test : test.skip, {
  seed: Number(process.env.MLFORGE_CRASH_SEED ?? 11),
  describeStore: () => ({ module: "@mlforge/online-local", export: "LocalOnlineStore", options: path.join(directory, randomUUID()) }),
  openStore: (description) => new LocalOnlineStore(storePath(description)),
  // Every entry in LMDB, grouped by the namespace before its separator (\0, or \1 for a hashed long key).
  // Opened with the store's own options: lmdb-js shares one environment per path in a process, and the first opener sets its flags.
  async backendNamespaces(description) {
    const root = open({ ...LMDB_ENVIRONMENT_OPTIONS, path: storePath(description) });
    try {
      const entries = root.openDB<string, string>({ name: "entries", encoding: "string" });
      const counts: Record<string, number> = {};
      for (const key of entries.getKeys()) {
        const namespace = /^[^\u0000\u0001]*/.exec(key)![0];
        counts[namespace] = (counts[namespace] ?? 0) + 1;
      }
      return counts;
    } finally {
      await root.close();
    }
  },
});
