import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Definitions, feature, StoreAccessError } from "@mlforge/core";
import { offlineStoreTestSuite } from "@mlforge/store-test-suite";
import { LocalStore } from "@mlforge/store-local";

const directories: string[] = [];

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

offlineStoreTestSuite(test, async () => {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-local-"));
  directories.push(directory);
  return new LocalStore(directory);
});

describe("LocalStore specifics", () => {
  async function freshDirectory(): Promise<string> {
    const directory = await mkdtemp(path.join(tmpdir(), "mlforge-local-"));
    directories.push(directory);
    return directory;
  }

  test("accepts a path string, an options object and a file URL, resolving relative paths from the cwd", async () => {
    const directory = await freshDirectory();
    expect(new LocalStore(directory).location).toBe(directory);
    expect(new LocalStore({ path: pathToFileURL(directory) }).location).toBe(directory);
    expect(new LocalStore("feature_store").location).toBe(path.resolve("feature_store"));
  });

  test("a path that is a file is refused with a StoreAccessError that says so", async () => {
    const file = path.join(await freshDirectory(), "not-a-directory");
    await writeFile(file, "x");
    await expect(new LocalStore(file).check()).rejects.toThrow(StoreAccessError);
    await expect(new LocalStore(file).check()).rejects.toThrow(`LocalStore path '${file}' is a file, not a directory. Point LocalStore at a directory.`);
  });

  test("check() removes the temporary files of a killed build, and keeps those of a running one", async () => {
    const directory = await freshDirectory();
    await mkdir(path.join(directory, "_metadata"));
    const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
    const running = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"]);
    try {
      const leftovers = [`.user_total_spend.${dead}.abc123.parquet.tmp`, `_metadata/.user_total_spend.${dead}.abc123.json.tmp`];
      const kept = [`.user_total_spend.${running.pid}.def456.parquet.tmp`, "user_total_spend.parquet", "notes.txt"];
      for (const file of [...leftovers, ...kept]) await writeFile(path.join(directory, file), "x");
      await new LocalStore(directory).check();
      expect((await readdir(directory)).sort()).toEqual([...kept, "_metadata"].sort());
      expect(await readdir(path.join(directory, "_metadata"))).toEqual([]);
    } finally {
      running.kill();
    }
  });

  describe("kept versions", () => {
    /** Builds `user_total_spend` (amounts times `factor`) into `store`; returns the build id. */
    async function build(store: string, transactions: string, factor: number): Promise<string> {
      const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, sum(amount) * ${factor} AS total FROM ${source} GROUP BY user_id`);
      await using defs = new Definitions({ name: "links", features: [spend], offlineStore: new LocalStore(store) });
      await defs.build();
      return (await defs.metadata("user_total_spend"))!.buildId;
    }

    async function setUp(): Promise<{ store: string; transactions: string; version: (id: string) => string; current: string }> {
      const directory = await freshDirectory();
      const transactions = path.join(directory, "transactions.csv");
      await writeFile(transactions, "user_id,amount\nu1,10\nu2,7\n");
      const store = path.join(directory, "store");
      return { store, transactions, version: (id) => path.join(store, "_versions", "user_total_spend", `${id}.parquet`), current: path.join(store, "user_total_spend.parquet") };
    }

    test("a build's version and the current data are one file on disk (a hard link), and a later build replaces the current one without touching it", async () => {
      const { store, transactions, version, current } = await setUp();
      const first = await build(store, transactions, 1);
      const [kept, now] = await Promise.all([stat(version(first)), stat(current)]);
      expect(now.ino).toBe(kept.ino);
      expect(now.nlink).toBe(2);
      const bytes = await readFile(version(first));

      const second = await build(store, transactions, 2);
      const [old, newer, replaced] = await Promise.all([stat(version(first)), stat(version(second)), stat(current)]);
      // Replaced by a rename, never written in place: the first version's file is untouched.
      expect([old.ino, old.nlink, old.mtimeMs]).toEqual([kept.ino, 1, kept.mtimeMs]);
      expect(await readFile(version(first))).toEqual(bytes);
      expect(replaced.ino).toBe(newer.ino);
      expect(replaced.ino).not.toBe(kept.ino);
    });

    test("where the file system refuses links, copy() copies the bytes instead", async () => {
      const { store, transactions, version, current } = await setUp();
      // The module object LocalStore calls through (an `import * as` namespace would be a copy).
      const promises = jest.requireActual<typeof import("node:fs/promises")>("node:fs/promises");
      const refuse = jest.spyOn(promises, "link").mockRejectedValue(Object.assign(new Error("EPERM: operation not permitted, link"), { code: "EPERM" }));
      try {
        const id = await build(store, transactions, 1);
        expect(refuse).toHaveBeenCalled();
        const [kept, now] = await Promise.all([stat(version(id)), stat(current)]);
        expect(now.ino).not.toBe(kept.ino);
        expect(await readFile(current)).toEqual(await readFile(version(id)));
      } finally {
        refuse.mockRestore();
      }
    });
  });
});
