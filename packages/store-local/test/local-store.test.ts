import { spawn, spawnSync } from "node:child_process";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { StoreAccessError } from "@mlforge/core";
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
});
