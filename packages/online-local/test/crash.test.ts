// LocalOnlineStore under the online crash suite: syncs in child processes killed with SIGKILL at
// seeded random points while this process reads, and two syncs of one feature at once.
// MLFORGE_CRASH_SEED replays another sequence of kill points.
// Opt-in (MLFORGE_ONLINE_LOCAL_CRASH=1) until an open bug is fixed: after SIGKILLed sync children,
// a sync in this process has hit MDB_PANIC ("Update of meta page failed") in lmdb's commit and then
// never settled (seed 11, two busy cores); one run in two passed.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { open } from "lmdb";
import { LocalOnlineStore } from "@mlforge/online-local";
import { onlineCrashTestSuite, type OnlineStoreDescription } from "@mlforge/online-test-suite";

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-local-crash-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const storePath = (description: OnlineStoreDescription) => description.options as string;

onlineCrashTestSuite(process.env.MLFORGE_ONLINE_LOCAL_CRASH === "1" ? test : test.skip, {
  seed: Number(process.env.MLFORGE_CRASH_SEED ?? 11),
  describeStore: () => ({ module: "@mlforge/online-local", export: "LocalOnlineStore", options: path.join(directory, randomUUID()) }),
  openStore: (description) => new LocalOnlineStore(storePath(description)),
  // Every entry in LMDB (opened as the store opens it: lmdb-js shares one environment per path in a process), grouped by the namespace before its separator (\0, or \1 for a hashed long key).
  async backendNamespaces(description) {
    const root = open({ path: storePath(description), noSubdir: false, maxDbs: 4 });
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
