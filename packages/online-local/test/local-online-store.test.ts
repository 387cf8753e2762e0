import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { StoreAccessError } from "@mlforge/core";
import { LocalOnlineStore } from "@mlforge/online-local";
import { nodeArguments, within } from "@mlforge/test-support";

const CHILD = path.join(__dirname, "support", "store-child.ts");

const directories: string[] = [];

async function freshDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-local-"));
  directories.push(directory);
  return directory;
}

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

/** Store children still running, killed after each test however it ended: a put-forever writer left behind would never exit. */
const running = new Set<ChildProcess>();

afterEach(() => {
  for (const child of running) child.kill("SIGKILL");
});

/** Starts `node store-child.ts ...args` (see support/store-child.ts for the commands). */
function spawnStoreChild(args: string[]) {
  const child = spawn(process.execPath, nodeArguments(CHILD, args), { stdio: ["ignore", "pipe", "pipe"] });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** Runs the store child to completion and returns its stdout. */
function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawnStoreChild(args);
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(stdout) : reject(new Error(`child exited with ${code}: ${stderr}`))));
  });
}

describe("LocalOnlineStore specifics", () => {
  test("accepts a path string, an options object and a file URL, resolving relative paths from the cwd", async () => {
    const directory = await freshDirectory();
    expect(new LocalOnlineStore(directory).location).toBe(directory);
    expect(new LocalOnlineStore({ path: pathToFileURL(directory) }).location).toBe(directory);
    expect(new LocalOnlineStore("./online_store").location).toBe(path.resolve("online_store"));
    expect(new LocalOnlineStore(directory).description).toBe(`LocalOnlineStore at ${directory}`);
  });

  test("opens lazily: constructing touches nothing, the first call creates the directory (even one named like a file)", async () => {
    const location = path.join(await freshDirectory(), "store.v2");
    const store = new LocalOnlineStore(location);
    await expect(stat(location)).rejects.toThrow();
    await store.check();
    expect((await readdir(location)).sort()).toEqual(["data.mdb", "lock.mdb"]);
    await store.close();
  });

  test("a path that is a file is refused with a StoreAccessError that says so", async () => {
    const file = path.join(await freshDirectory(), "not-a-directory");
    await writeFile(file, "x");
    const store = new LocalOnlineStore(file);
    await expect(store.check()).rejects.toThrow(StoreAccessError);
    await expect(store.get([{ namespace: "n", keys: ["k"] }])).rejects.toThrow(
      `LocalOnlineStore path '${file}' is a file, not a directory. Point LocalOnlineStore at a directory.`,
    );
  });

  test("a path below a file cannot be created: StoreAccessError naming the store and the fix", async () => {
    const file = path.join(await freshDirectory(), "file");
    await writeFile(file, "x");
    const store = new LocalOnlineStore(path.join(file, "online_store"));
    const error = await store.check().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreAccessError);
    expect((error as Error).message).toMatch(/^LocalOnlineStore at .*online_store could not (read|create) its directory \(ENOTDIR.*point LocalOnlineStore at a directory\.$/);
  });

  test("a closed store refuses calls with a StoreAccessError; close() is idempotent", async () => {
    const store = new LocalOnlineStore(await freshDirectory());
    await store.put("n", [["k", "v"]]);
    await store.close();
    await store.close();
    await expect(store.get([{ namespace: "n", keys: ["k"] }])).rejects.toThrow(/is closed/);
  });

  test("the map grows by itself past LMDB's initial size: 60 MB in one namespace", async () => {
    const store = new LocalOnlineStore(await freshDirectory());
    const value = "v".repeat(60_000);
    await store.put("grow", Array.from({ length: 1000 }, (_, index) => [`k${index}`, value] as const));
    expect(await store.count("grow")).toBe(1000);
    expect((await store.get([{ namespace: "grow", keys: ["k999"] }]))[0]![0]).toBe(value);
    await store.close();
  });

  test("another process reads what this one committed, and this one reads what another wrote", async () => {
    const location = await freshDirectory();
    const store = new LocalOnlineStore(location);
    await store.put("shared", [["a", "from parent"], ["b", "ü 🚀"]]);
    expect(JSON.parse(await runChild(["read", location, "shared", "a", "b", "missing"]))).toEqual(["from parent", "ü 🚀", null]);

    // This process keeps its store open across the child's write, as a serving process does during a sync.
    expect(await store.get([{ namespace: "shared", keys: ["a", "c"] }])).toEqual([["from parent", undefined]]);
    await runChild(["put", location, "shared", "c", "from child"]);
    expect(await store.get([{ namespace: "shared", keys: ["a", "c"] }])).toEqual([["from parent", "from child"]]);
    expect(await store.count("shared")).toBe(3);
    expect(await store.listNamespaces("sh")).toEqual(["shared"]);
    await store.close();
  });

  test("a writer killed with SIGKILL mid-put leaves every committed batch readable and no torn value", async () => {
    const location = await freshDirectory();
    const child = spawnStoreChild(["put-forever", location, "killed"]);
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const committed = await new Promise<number>((resolve, reject) => {
      let stdout = "";
      child.on("close", (code) => reject(new Error(`writer exited early (${code}): ${stderr}`)));
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        const lines = stdout.split("\n").filter(Boolean);
        // Kill while it is busy writing, some batches in.
        if (lines.length >= 5) {
          child.kill("SIGKILL");
          resolve(Number(lines.at(-1)));
        }
      });
    });
    await new Promise((resolve) => child.once("exit", resolve));
    expect(child.signalCode).toBe("SIGKILL");

    const store = new LocalOnlineStore(location);
    await store.check();
    const count = await store.count("killed");
    // Every batch reported committed is there; a batch cut short by the kill is there whole or not at all.
    expect(count).toBeGreaterThanOrEqual((committed + 1) * 500);
    expect(count % 500).toBe(0);
    const batches = count / 500;
    const padding = "x".repeat(2000);
    const requests = Array.from({ length: batches }, (_, batch) => ({
      namespace: "killed",
      keys: Array.from({ length: 500 }, (_, index) => `k${batch}-${index}`),
    }));
    const values = await store.get(requests);
    values.forEach((batch, batchIndex) =>
      batch.forEach((value, index) => expect(value).toBe(`${batchIndex}:${index}:${padding}`)),
    );
    // The store is still writable after the kill (no stale lock left behind).
    await store.put("killed", [["after", "kill"]]);
    expect(await store.count("killed")).toBe(count + 1);
    await store.close();
  });

  // Regression: with lmdb-js's default overlappingSync, a writer killed while flushing left LMDB's
  // robust sync mutex owner-dead, and the next large commit here failed with MDB_PANIC ("Update of
  // meta page failed") and never settled; it happened within one or two kills.
  test("writers killed with SIGKILL mid-commit, again and again: every large put of a process that stays open commits and settles", async () => {
    const location = await freshDirectory();
    const store = new LocalOnlineStore(location);
    await store.check();
    const value = "p".repeat(2000);
    for (let round = 0; round < 8; round += 1) {
      const child = spawnStoreChild(["put-forever", location, `writer${round}`]);
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
      // Once its first batch committed, the writer is busy committing and flushing the next ones: kill it at some point of that.
      await within(new Promise((resolve) => child.stdout.once("data", resolve)), 60_000, `round ${round}: the writer's first batch`);
      await new Promise((resolve) => setTimeout(resolve, (round * 53) % 300));
      child.kill("SIGKILL");
      expect(await within(exited, 30_000, `round ${round}: the killed writer's exit`)).toBe("SIGKILL");
      await within(store.put("parent", Array.from({ length: 3000 }, (_, index) => [`k${index}`, `${round}:${value}`] as const)), 60_000, `round ${round}: a put after the kill`);
      expect((await store.get([{ namespace: "parent", keys: ["k2999"] }]))[0]![0]).toBe(`${round}:${value}`);
    }
    await store.close();
  });
});
