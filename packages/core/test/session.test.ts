import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildError, Definitions, feature, SourceNotFoundError, StoreAccessError, type OfflineStore } from "@mlforge/core";
import { metadataKey } from "@mlforge/core/store-kit";
import { LocalStore } from "@mlforge/store-local";
import { interceptStore } from "@mlforge/store-test-suite";

let directory: string;

beforeEach(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-session-"));
  await mkdir(path.join(directory, "project", "data"), { recursive: true });
  await writeFile(path.join(directory, "project", "data", "transactions.csv"), "user_id,amount\nu1,10\nu2,7\nu1,5\n");
  await writeFile(path.join(directory, "project", "data", "labels.csv"), "user_id\nu1\nu2\n");
});

afterEach(async () => {
  await rm(directory, { recursive: true, force: true });
});

const spend = () =>
  feature({ name: "user_total_spend", keys: ["user_id"], source: "data/transactions.csv" }, (source) => `SELECT user_id, sum(amount)::DOUBLE AS total FROM ${source} GROUP BY user_id`);

async function buildFailure(build: Promise<unknown>): Promise<BuildError> {
  const error = await build.then(() => undefined, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(BuildError);
  return error as BuildError;
}

function definitions(options: { baseDirectory?: string; store?: OfflineStore } = {}): Definitions {
  return new Definitions({
    name: "session",
    features: [spend()],
    offlineStore: options.store ?? new LocalStore(path.join(directory, "store")),
    ...(options.baseDirectory === undefined ? {} : { baseDirectory: options.baseDirectory }),
  });
}

test("relative sources and entity files resolve from baseDirectory, whatever the working directory", async () => {
  const defs = definitions({ baseDirectory: path.join(directory, "project") });
  expect(process.cwd()).not.toBe(path.join(directory, "project"));
  const result = await defs.build();
  expect(result.built.map((entry) => entry.rows)).toEqual([2]);
  const training = await defs.getTrainingData({ features: ["user_total_spend"], entities: "data/labels.csv" });
  expect(await training.rows()).toEqual([
    { user_id: "u1", total: 15 },
    { user_id: "u2", total: 7 },
  ]);
});

test("without baseDirectory a relative source resolves from the working directory, and the error says where it looked", async () => {
  const failure = await buildFailure(definitions().build());
  const error = failure.result.failed[0]!.error!;
  expect(error).toBeInstanceOf(SourceNotFoundError);
  expect(error.message).toContain(path.join(process.cwd(), "data", "transactions.csv"));
  expect(error.message).toContain("baseDirectory");
});

test("build ids sort in build order", async () => {
  const defs = definitions({ baseDirectory: path.join(directory, "project") });
  const ids: string[] = [];
  for (let index = 0; index < 3; index++) {
    await defs.build({ force: true });
    ids.push((await defs.metadata("user_total_spend"))!.buildId);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(ids).toHaveLength(3);
  expect(new Set(ids).size).toBe(3);
  expect([...ids].sort()).toEqual(ids);
});

test("an outage while reading metadata fails the build; it never turns into a silent rebuild", async () => {
  const local = new LocalStore(path.join(directory, "store"));
  await definitions({ baseDirectory: path.join(directory, "project"), store: local }).build();
  const down = interceptStore<OfflineStore>(local, {
    getText: async () => {
      throw new StoreAccessError("LocalStore could not read the disk (EIO).");
    },
  });
  const failure = await buildFailure(definitions({ baseDirectory: path.join(directory, "project"), store: down }).build());
  expect(failure.result.built).toEqual([]);
  expect(failure.result.failed[0]!.error!.message).toContain("EIO");
});

test("list() and metadata() describe the data file even when a crash left the document stale", async () => {
  const store = new LocalStore(path.join(directory, "store"));
  const defs = definitions({ baseDirectory: path.join(directory, "project"), store });
  await defs.build();
  const current = (await defs.metadata("user_total_spend"))!;
  // A crash between the data and the metadata write leaves the previous build's document.
  await store.putText(metadataKey("user_total_spend"), JSON.stringify({ ...current, buildId: "0".repeat(32), rows: 99 }));
  const listed = await defs.list();
  expect(listed[0]!.metadata?.buildId).toBe(current.buildId);
  expect(listed[0]!.metadata?.rows).toBe(2);
  expect((await defs.metadata("user_total_spend"))?.rows).toBe(2);
});

test("close() closes the offline store once, and await using calls it", async () => {
  let closed = 0;
  const store = interceptStore<OfflineStore>(new LocalStore(path.join(directory, "store")), {
    close: async () => {
      closed++;
    },
  });
  const defs = definitions({ baseDirectory: path.join(directory, "project"), store });
  await defs.close();
  await defs.close();
  expect(closed).toBe(1);
  {
    await using scoped = definitions({ baseDirectory: path.join(directory, "project"), store });
    expect(scoped.features).toHaveLength(1);
  }
  expect(closed).toBe(2);
});
