// S3Store (on the in-process s3rver) under the compliance suite's crash and concurrency tests:
// builds killed with SIGKILL at exact and seeded random points, and two builds of one prefix at
// once. MLFORGE_CRASH_SEED replays another sequence of kill points.
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { S3Store, type S3StoreOptions } from "@mlforge/store-s3";
import { crashTestSuite } from "@mlforge/store-test-suite";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-crash";

let s3: TestS3Server;
let directory: string;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-s3-crash-"));
});

afterAll(async () => {
  await s3?.close();
  await rm(directory, { recursive: true, force: true });
});

// A slow tier: with MLFORGE_SLOW_TESTS=0 (.ci/run's second Node version) Jest reports its tests as skipped.
const slowTiers = process.env.MLFORGE_SLOW_TESTS !== "0";

crashTestSuite(slowTiers ? test : test.skip, {
  seed: Number(process.env.MLFORGE_CRASH_SEED ?? 11),
  kills: 5,
  // As the kept version (uploaded) is copied to the current key, and between that copy and the metadata upload.
  crashPoints: [
    { operation: "copy", feature: "f1" },
    { operation: "putText", feature: "f1" },
  ],
  // Free-running concurrent builds run on a LocalStore (packages/store-local/test/crash.test.ts); here only the worst order.
  freeRunning: false,
  describeStore: () => {
    const options: S3StoreOptions = {
      bucket: BUCKET,
      prefix: `crash/${randomUUID()}`,
      endpoint: s3.endpoint,
      credentials: S3RVER_CREDENTIALS,
      cacheDirectory: path.join(directory, "child-cache"),
    };
    return { module: "@mlforge/store-s3", export: "S3Store", options };
  },
  // The test's own cache, apart from the children's.
  openStore: (description) => new S3Store({ ...(description.options as S3StoreOptions), cacheDirectory: path.join(directory, "reader-cache") }),
  // Listed with a plain client: nothing temporary is ever uploaded.
  async storedKeys(description) {
    const { prefix } = description.options as S3StoreOptions;
    return (await s3.keys(BUCKET, prefix)).map((key) => key.slice(`${prefix}/`.length));
  },
  // The files S3Store staged in the OS temp directory for process `pid`.
  async leftovers(_description, pid) {
    const pattern = new RegExp(`^mlforge-s3-f\\d+-${pid}-[0-9a-f]+\\.parquet$`);
    return (await readdir(tmpdir())).filter((entry) => pattern.test(entry));
  },
});
