import { access, mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import {
  BuildError,
  Definitions,
  feature,
  FeatureDefinitionError,
  SourceNotFoundError,
  StoreAccessError,
  type OfflineStore,
} from "@mlforge/core";
import type { RemoteObject, SourceProvider } from "@mlforge/core/store-kit";
import { LocalStore } from "@mlforge/store-local";
import { interceptStore } from "@mlforge/store-test-suite";

/** An in-memory `mem://` source provider that counts what core asks of it. */
class MemorySources implements SourceProvider {
  readonly schemes = ["mem"];
  /** URI → content and version. */
  readonly objects = new Map<string, { content: string; version: string }>();
  /** Every file core asked to download into. */
  readonly downloads: string[] = [];
  listings = 0;

  put(uri: string, content: string, version: string): void {
    this.objects.set(uri, { content, version });
  }

  async list(uri: string): Promise<RemoteObject[]> {
    this.listings++;
    // "*" stands for any run of characters here.
    const pattern = new RegExp(`^${uri.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
    const matches = (candidate: string) => pattern.test(candidate);
    // Unsorted on purpose: core sorts, so that the fingerprint does not depend on listing order.
    return [...this.objects.entries()]
      .filter(([candidate]) => matches(candidate))
      .reverse()
      .map(([candidate, { content, version }]) => ({ uri: candidate, size: Buffer.byteLength(content), version }));
  }

  async download(object: RemoteObject, file: string): Promise<void> {
    this.downloads.push(file);
    const found = this.objects.get(object.uri);
    if (found === undefined) throw new Error(`no object ${object.uri}`);
    await writeFile(file, found.content);
  }
}

let directory: string;
let temporary: string;
let storePath: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-sources-test-"));
  temporary = path.join(directory, "tmp");
  storePath = path.join(directory, "store");
  await mkdir(temporary);
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

function spend(source: string, sql = "SELECT user_id, sum(amount)::DOUBLE AS total_spend FROM {src} GROUP BY user_id") {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, (relation) => sql.replace("{src}", relation));
}

function definitions(sources: SourceProvider[], source = "mem://bucket/transactions-*.csv", offlineStore: OfflineStore = new LocalStore(storePath)) {
  return new Definitions({ name: "test", features: [spend(source)], offlineStore, sources, engine: { tempDirectory: temporary } });
}

async function rows(file: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    return (await connection.runAndReadAll(`SELECT user_id, total_spend FROM read_parquet('${file}') ORDER BY user_id`)).getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected a rejection");
    },
    (reason: unknown) => reason,
  );
}

/** The directories core made for downloads that are still there. */
async function leftovers(): Promise<string[]> {
  return (await readdir(temporary)).filter((entry) => entry.startsWith("mlforge-"));
}

function twoMonths(): MemorySources {
  const sources = new MemorySources();
  sources.put("mem://bucket/transactions-01.csv", "user_id,amount\nu1,10.5\nu2,7\n", "v1");
  sources.put("mem://bucket/transactions-02.csv", "user_id,amount\nu1,5\n", "v1");
  return sources;
}

test("a remote source is downloaded, read with its format, and recorded with uri, size and version", async () => {
  const sources = twoMonths();
  const result = await definitions([sources]).build();
  expect(result.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  expect(await rows(path.join(storePath, "user_total_spend.parquet"))).toEqual([
    { user_id: "u1", total_spend: 15.5 },
    { user_id: "u2", total_spend: 7 },
  ]);
  expect(sources.downloads).toHaveLength(2);
  // Each object keeps its name, so that DuckDB sees its extension.
  expect(sources.downloads.map((file) => path.basename(file)).sort()).toEqual(["0-transactions-01.csv", "1-transactions-02.csv"]);

  const metadata = await definitions([sources]).metadata("user_total_spend");
  expect(metadata?.sourceFiles).toEqual([
    { path: "mem://bucket/transactions-01.csv", size: 28, version: "v1" },
    { path: "mem://bucket/transactions-02.csv", size: 20, version: "v1" },
  ]);
});

test("an unchanged remote source is skipped without downloading anything; a new version rebuilds", async () => {
  const sources = twoMonths();
  await definitions([sources]).build();
  expect(sources.downloads).toHaveLength(2);

  const again = await definitions([sources]).build();
  expect(again.skipped.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(again.built).toEqual([]);
  expect(sources.downloads).toHaveLength(2);

  sources.put("mem://bucket/transactions-02.csv", "user_id,amount\nu1,6\n", "v2");
  const changed = await definitions([sources]).build();
  expect(changed.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(sources.downloads).toHaveLength(4);
  expect(await rows(path.join(storePath, "user_total_spend.parquet"))).toEqual([
    { user_id: "u1", total_spend: 16.5 },
    { user_id: "u2", total_spend: 7 },
  ]);
});

test("downloaded files are removed after a build that succeeds and after one that fails", async () => {
  const sources = twoMonths();
  await definitions([sources]).build();
  expect(sources.downloads).toHaveLength(2);
  for (const file of sources.downloads) expect(await exists(file)).toBe(false);
  expect(await leftovers()).toEqual([]);

  const broken = new Definitions({
    name: "test",
    features: [spend("mem://bucket/transactions-*.csv", "SELECT user_id, sum(no_such_column) AS total_spend FROM {src} GROUP BY user_id")],
    offlineStore: new LocalStore(storePath),
    sources: [sources],
    engine: { tempDirectory: temporary },
  });
  const error = await rejection(broken.build({ force: true }));
  expect(error).toBeInstanceOf(BuildError);
  expect((error as BuildError).result.failed[0]?.error?.message).toContain("no_such_column");
  expect(sources.downloads).toHaveLength(4);
  for (const file of sources.downloads) expect(await exists(file)).toBe(false);
  expect(await leftovers()).toEqual([]);
});

test("a failed download removes the directory too, and the error names the object", async () => {
  const sources = twoMonths();
  const failing: SourceProvider = {
    schemes: ["mem"],
    list: (uri) => sources.list(uri),
    download: async (object, file) => {
      if (object.uri.endsWith("02.csv")) throw new Error("connection reset");
      await sources.download(object, file);
    },
  };
  const error = await rejection(definitions([failing]).build());
  expect((error as BuildError).result.failed[0]?.error?.message).toBe(
    "Feature 'user_total_spend' failed to build: downloading its source object 'mem://bucket/transactions-02.csv' failed: connection reset",
  );
  expect(await leftovers()).toEqual([]);
});

test("a source that lists no object is a SourceNotFoundError naming the URI", async () => {
  const sources = twoMonths();
  const error = await rejection(definitions([sources], "mem://bucket/missing.csv").build());
  const failure = (error as BuildError).result.failed[0]?.error;
  expect(failure).toBeInstanceOf(SourceNotFoundError);
  expect((failure as SourceNotFoundError).source).toBe("mem://bucket/missing.csv");
  expect(failure?.message).toContain("Source 'mem://bucket/missing.csv' of feature 'user_total_spend' matched no object.");
  expect(sources.downloads).toEqual([]);
});

test("a scheme no provider serves is a clear error", async () => {
  const error = await rejection(definitions([twoMonths()], "gs://bucket/transactions.csv").build());
  const failure = (error as BuildError).result.failed[0]?.error;
  expect(failure).toBeInstanceOf(SourceNotFoundError);
  expect(failure?.message).toBe(
    "Feature 'user_total_spend' reads 'gs://bucket/transactions.csv', but no source provider serves gs:// URIs (given: mem://). " +
      "Pass one in new Definitions({ sources: [...] }), or use a local path or glob.",
  );
});

test("the sources option is checked when Definitions is made", () => {
  const make = (sources: unknown) => () =>
    new Definitions({ name: "test", features: [], offlineStore: new LocalStore(storePath), sources: sources as SourceProvider[] });
  expect(make([{ schemes: ["mem"] }])).toThrow(FeatureDefinitionError);
  expect(make([twoMonths(), twoMonths()])).toThrow("Definitions option 'sources' has two providers for mem:// sources. Keep one.");
  expect(make("mem")).toThrow(FeatureDefinitionError);
});

test("a store that may not read metadata (write-only credentials) rebuilds instead of failing", async () => {
  const local = new LocalStore(storePath);
  // A remote store (files not served in place): core does not look at its data files to decide, only at the metadata it may not read.
  const writeOnly = interceptStore<OfflineStore>(local, {
    capabilities: { servesFilesInPlace: false },
    getText: async () => {
      throw new StoreAccessError("Access denied: these credentials may not perform s3:GetObject.", { reason: "access-denied" });
    },
  });
  const sources = twoMonths();
  await definitions([sources], undefined, writeOnly).build();
  const again = await definitions([sources], undefined, writeOnly).build();
  expect(again.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(sources.downloads).toHaveLength(4);
});
