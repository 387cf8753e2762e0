// LocalStore under the compliance suite's crash and concurrency tests: builds killed with SIGKILL
// at exact and seeded random points, and two builds of one store at once. MLFORGE_CRASH_SEED
// replays another sequence of kill points.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalStore } from "@mlforge/store-local";
import { crashTestSuite, type StoreDescription } from "@mlforge/store-test-suite";

/** A LocalStore temporary file: `.<stem>.<pid>.<random>.(parquet|json).tmp`, the stem a feature (f1, f2…) beside current files or a build id under `_versions/`. */
const TEMPORARY = /^\.(f\d+|[0-9a-f]{8,64})\.(\d+)\.[0-9a-f]+\.(parquet|json)\.tmp$/;

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-local-crash-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

const storePath = (description: StoreDescription) => description.options as string;

/** The store directory's files, as `/`-separated paths relative to it. */
async function files(store: string): Promise<string[]> {
  const entries = await readdir(store, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.relative(store, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"));
}

// A slow tier: with MLFORGE_SLOW_TESTS=0 (.ci/run's second Node version) Jest reports its tests as skipped.
const slowTiers = process.env.MLFORGE_SLOW_TESTS !== "0";

crashTestSuite(slowTiers ? test : test.skip, {
  seed: Number(process.env.MLFORGE_CRASH_SEED ?? 7),
  describeStore: () => ({ module: "@mlforge/store-local", export: "LocalStore", options: path.join(directory, randomUUID()) }),
  openStore: (description) => new LocalStore(storePath(description)),
  async storedKeys(description) {
    const found = await files(storePath(description));
    // Anything hidden is a LocalStore temporary file, never a half-written feature under its name.
    for (const file of found.filter((file) => path.posix.basename(file).startsWith("."))) expect(path.posix.basename(file)).toMatch(TEMPORARY);
    return found.filter((file) => !path.posix.basename(file).startsWith("."));
  },
  async leftovers(description, pid) {
    return (await files(storePath(description))).filter((file) => TEMPORARY.exec(path.posix.basename(file))?.[2] === String(pid));
  },
});
