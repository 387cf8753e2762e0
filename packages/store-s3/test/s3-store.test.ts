import { createHash, randomBytes, randomUUID } from "node:crypto";
import { readFile, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Definitions, StoreAccessError } from "@mlforge/core";
import { dataKey, listFeatureNames, metadataKey } from "@mlforge/core/store-kit";
import { S3Store } from "@mlforge/store-s3";
import { offlineStoreTestSuite } from "@mlforge/store-test-suite";
import { IamGateway } from "./support/iam-gateway";
import { duckdb, literal, userTotalSpend, writeTransactions } from "./support/fixtures";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-test";
const ROOT_BUCKET = "mlforge-root";
const MIB = 1024 * 1024;

// Builds and multi-megabyte uploads on a busy 2-core machine: more than Jest's default 5 s.
jest.setTimeout(30_000);

let s3: TestS3Server;
let gateway: IamGateway;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET, ROOT_BUCKET]);
  // Allows everything, checks signatures and counts requests by S3 operation.
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

/** A store on s3rver (or through the gateway) under a fresh prefix, caching inside the test's temp directory. */
function store(options: Partial<ConstructorParameters<typeof S3Store>[0]> = {}, via: "s3rver" | "gateway" = "s3rver"): S3Store {
  return new S3Store({
    bucket: BUCKET,
    prefix: `tests/${randomUUID()}`,
    endpoint: via === "gateway" ? gateway.endpoint : s3.endpoint,
    credentials: S3RVER_CREDENTIALS,
    cacheDirectory: path.join(s3.directory, "cache"),
    ...options,
  });
}

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

async function objectBytes(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

describe("compliance suite", () => {
  // MLFORGE_S3_TEST_BUCKET (with MLFORGE_S3_TEST_ENDPOINT for a non-AWS server, credentials and
  // region from the SDK's chain) runs the same suite against a real bucket instead of s3rver.
  const realBucket = process.env.MLFORGE_S3_TEST_BUCKET;
  offlineStoreTestSuite(test, () =>
    realBucket
      ? new S3Store({
          bucket: realBucket,
          prefix: `mlforge-test/${randomUUID()}`,
          ...(process.env.MLFORGE_S3_TEST_ENDPOINT ? { endpoint: process.env.MLFORGE_S3_TEST_ENDPOINT } : {}),
          cacheDirectory: path.join(s3.directory, "cache"),
        })
      : store(),
  );
});

describe("options", () => {
  test.each([
    ["prod/features", "prod/features"],
    ["prod/features/", "prod/features"],
    ["/prod/features", "prod/features"],
    ["//prod//features//", "prod/features"],
    ["", ""],
    ["/", ""],
  ])("prefix %j is normalised to %j", (prefix, normalised) => {
    const made = new S3Store({ bucket: "b", prefix, region: "us-east-1", credentials: S3RVER_CREDENTIALS });
    expect(made.prefix).toBe(normalised);
    expect(made.location).toBe(normalised === "" ? "s3://b" : `s3://b/${normalised}`);
  });

  test("unknown, clashing and out-of-range options are refused with a sentence that says what to do", () => {
    const attempts: Array<[Record<string, unknown>, RegExp]> = [
      [{ bucket: "b", prefx: "p" }, /unknown option 'prefx'\. Known options: bucket, prefix/],
      [{}, /needs a bucket/],
      [{ bucket: "s3://b/prod" }, /bare bucket name and put the path in 'prefix'/],
      [{ bucket: "b", partSize: 1024 }, /at least 5 MiB/],
      [{ bucket: "b", prefix: "prod/../other" }, /^S3Store option prefix 'prod\/\.\.\/other' has a '\.\.' segment, which some S3-compatible servers resolve to another path\. Give a prefix without '\.' or '\.\.' segments, for example "prod\/features"\.$/],
      [{ bucket: "b", prefix: "./features" }, /has a '\.' segment/],
      [{ bucket: "b", prefix: ".." }, /has a '\.\.' segment/],
      [{ bucket: "b", queueSize: 0 }, /queueSize is 0/],
      [{ bucket: "b", client: new S3Client({ region: "us-east-1" }), region: "eu-west-1" }, /ready 'client' and also 'region'/],
    ];
    for (const [options, message] of attempts) {
      expect(() => new S3Store(options as never)).toThrow(StoreAccessError);
      expect(() => new S3Store(options as never)).toThrow(message);
    }
  });

  test("a ready S3Client is used as given", async () => {
    const client = new S3Client({
      endpoint: s3.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      requestChecksumCalculation: "WHEN_REQUIRED",
    });
    try {
      const prefix = `tests/${randomUUID()}`;
      const made = new S3Store({ bucket: BUCKET, prefix, client, cacheDirectory: path.join(s3.directory, "cache") });
      expect(made.client).toBe(client);
      await made.putText(metadataKey("via_client"), "{}\n");
      expect(await s3.keys(BUCKET, prefix)).toEqual([`${prefix}/_metadata/via_client.json`]);
    } finally {
      client.destroy();
    }
  });
});

describe("layout", () => {
  test.each(["{base}/features", "{base}/features/", "/{base}/features"])("prefix %j puts objects at <prefix>/<name>.parquet and <prefix>/_metadata/<name>.json", async (form) => {
    const base = `layout-${randomUUID()}`;
    const made = store({ prefix: form.replace("{base}", base) });
    expect(made.location).toBe(`s3://${BUCKET}/${base}/features`);
    const staged = await made.stagingPath(dataKey("numbers"));
    await duckdb(`COPY (SELECT range AS n FROM range(3)) TO ${literal(staged)} (FORMAT parquet)`);
    const stored = await made.putFile(dataKey("numbers"), staged);
    await made.putText(metadataKey("numbers"), '{"rows":3}\n');

    expect(stored.uri).toBe(`s3://${BUCKET}/${base}/features/numbers.parquet`);
    expect(await s3.keys(BUCKET, base)).toEqual([`${base}/features/_metadata/numbers.json`, `${base}/features/numbers.parquet`]);
    expect((await objectBytes(s3.client, BUCKET, `${base}/features/_metadata/numbers.json`)).toString()).toBe('{"rows":3}\n');
    await expect(stat(staged)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("with no prefix the features sit at the bucket root", async () => {
    const made = store({ bucket: ROOT_BUCKET, prefix: "" });
    expect(made.location).toBe(`s3://${ROOT_BUCKET}`);
    await made.putText(metadataKey("at_root"), "{}\n");
    expect(await listFeatureNames(made)).toEqual(["at_root"]);
    expect(await s3.keys(ROOT_BUCKET)).toEqual(["_metadata/at_root.json"]);
  });

  test("listing pages through every listing page and keeps only feature documents", async () => {
    // A client whose metadata listings ask for two keys a page, so that the documents below take four pages.
    const client = new S3Client({ endpoint: s3.endpoint, region: "us-east-1", forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: "WHEN_REQUIRED" });
    const tokens: string[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { Prefix?: string; MaxKeys?: number; ContinuationToken?: string };
        if (input.Prefix?.endsWith("_metadata/")) {
          input.MaxKeys = 2;
          tokens.push(input.ContinuationToken ?? "");
        }
        return next(args);
      },
      { step: "initialize" },
    );
    try {
      const prefix = `tests/${randomUUID()}`;
      const made = new S3Store({ bucket: BUCKET, prefix, client });
      for (const name of ["e_five", "a_one", "c_three", "b_two", "d_four"]) await made.putText(metadataKey(name), "{}");
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_metadata/notes.txt`, Body: "x" }));
      await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_metadata/not-a-feature.json`, Body: "x" }));
      expect(await listFeatureNames(made)).toEqual(["a_one", "b_two", "c_three", "d_four", "e_five"]);
      expect(tokens).toHaveLength(4);
      expect(new Set(tokens).size).toBe(4);
    } finally {
      client.destroy();
    }
  });

  test("a build through Definitions lands <prefix>/<name>.parquet, <prefix>/_metadata/<name>.json and the kept version", async () => {
    const made = store();
    const transactions = await writeTransactions(s3.directory);
    const definitions = new Definitions({ name: "s3-layout", features: [userTotalSpend(transactions)], offlineStore: made });
    const result = await definitions.build();

    const prefix = made.prefix;
    expect(result.built.map((entry) => [entry.name, entry.rows, entry.uri])).toEqual([
      ["user_total_spend", 2, `s3://${BUCKET}/${prefix}/user_total_spend.parquet`],
    ]);
    const metadata = JSON.parse((await objectBytes(s3.client, BUCKET, `${prefix}/_metadata/user_total_spend.json`)).toString());
    expect(metadata).toMatchObject({ name: "user_total_spend", rows: 2, keys: ["user_id"] });
    expect(await s3.keys(BUCKET, prefix)).toEqual([
      `${prefix}/_metadata/user_total_spend.json`,
      `${prefix}/_versions/user_total_spend/${metadata.buildId}.json`,
      `${prefix}/_versions/user_total_spend/${metadata.buildId}.parquet`,
      `${prefix}/user_total_spend.parquet`,
    ]);

    // The object itself, downloaded with a plain client, holds the computed values.
    const file = path.join(s3.directory, `layout-${randomUUID()}.parquet`);
    await writeFile(file, await objectBytes(s3.client, BUCKET, `${prefix}/user_total_spend.parquet`));
    expect(await duckdb(`SELECT user_id, total_spend FROM read_parquet(${literal(file)}) ORDER BY user_id`)).toEqual([
      { user_id: "u1", total_spend: 15.5 },
      { user_id: "u2", total_spend: 7 },
    ]);
    expect(metadata.bytes).toBe((await stat(file)).size);
  });
});

describe("download cache", () => {
  test("a fresh machine skips an unchanged feature with HEAD requests only, and reports where it lives in the bucket", async () => {
    const transactions = await writeTransactions(s3.directory);
    const prefix = `tests/${randomUUID()}`;
    const defs = new Definitions({ name: "fresh", features: [userTotalSpend(transactions)], offlineStore: store({ prefix }, "gateway") });
    expect((await defs.build()).built).toHaveLength(1);
    // A second build, so that the store also keeps an older version under _versions/.
    expect((await defs.build({ force: true })).built).toHaveLength(1);
    expect(await defs.versions("user_total_spend")).toHaveLength(2);

    gateway.clear();
    const elsewhere = store({ prefix, cacheDirectory: path.join(s3.directory, `fresh-cache-${randomUUID()}`) }, "gateway");
    const again = await new Definitions({ name: "fresh", features: [userTotalSpend(transactions)], offlineStore: elsewhere }).build();
    expect(again.skipped.map((entry) => entry.uri)).toEqual([`s3://${BUCKET}/${prefix}/user_total_spend.parquet`]);
    // The metadata document is the one object read: the data is only HEADed, never downloaded, and
    // no kept version (data or document) is read either.
    const reads = gateway.requests.filter((request) => request.operation === "GetObject").map((request) => request.resource);
    expect(reads).toEqual([`arn:aws:s3:::${BUCKET}/${prefix}/_metadata/user_total_spend.json`]);
    expect(gateway.operations()).toContain("HeadObject");
  });

  test("a second read of an unchanged feature downloads nothing; a new version is downloaded once and replaces the old one", async () => {
    const made = store({}, "gateway");
    const first = await made.stagingPath(dataKey("cached"));
    await duckdb(`COPY (SELECT range AS n FROM range(10)) TO ${literal(first)} (FORMAT parquet)`);
    const firstHash = await sha256(first);
    await made.putFile(dataKey("cached"), first);

    gateway.clear();
    const path1 = (await made.getFile(dataKey("cached")))!;
    expect(gateway.operations()).toEqual(["HeadObject", "GetObject"]);
    expect(await sha256(path1)).toBe(firstHash);

    gateway.clear();
    const path2 = await made.getFile(dataKey("cached"));
    expect(path2).toBe(path1);
    expect(gateway.operations()).toEqual(["HeadObject"]);

    const second = await made.stagingPath(dataKey("cached"));
    await duckdb(`COPY (SELECT range AS n FROM range(100, 200)) TO ${literal(second)} (FORMAT parquet)`);
    const secondHash = await sha256(second);
    await made.putFile(dataKey("cached"), second);
    gateway.clear();
    const path3 = (await made.getFile(dataKey("cached")))!;
    expect(gateway.operations()).toEqual(["HeadObject", "GetObject"]);
    expect(path3).not.toBe(path1);
    expect(await sha256(path3)).toBe(secondHash);
    // The older version is dropped from the cache; nothing half-written is left beside it.
    expect((await readdir(path.dirname(path3))).filter((entry) => entry.endsWith("-cached.parquet") || entry.includes("-cached.parquet."))).toEqual([path.basename(path3)]);
  });

  test("a missing feature is undefined and is not cached", async () => {
    const made = store({}, "gateway");
    gateway.clear();
    expect(await made.getFile(dataKey("never_built"))).toBeUndefined();
    expect(gateway.operations()).toEqual(["ListObjectsV2", "HeadObject"]);
  });
});

describe("multipart upload", () => {
  test("a failed multipart upload reports its own error, leaves the previous version in place, and says when its abort is denied", async () => {
    const made = store({ partSize: 5 * MIB, queueSize: 2 }, "gateway");
    const first = await made.stagingPath(dataKey("large"));
    await writeFile(first, randomBytes(1024));
    await made.putFile(dataKey("large"), first);
    const key = `${made.prefix}/large.parquet`;
    const before = await objectBytes(s3.client, BUCKET, key);

    const second = await made.stagingPath(dataKey("large"));
    await writeFile(second, randomBytes(11 * MIB));
    gateway.clear();
    gateway.failing.add("UploadPart");
    // The policies of the README grant no s3:AbortMultipartUpload: the abort is tried, denied, and the message says so.
    gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:ListBucket"], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }] };
    try {
      const error = await made.putFile(dataKey("large"), second).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(StoreAccessError);
      const message = (error as Error).message;
      // The failure that stopped the upload is reported, not the failed abort.
      expect(message).toMatch(new RegExp(`^S3 answered InternalError \\(HTTP 500\\) to s3:PutObject on 's3://${BUCKET}/${key}'`));
      expect(message).toContain("Its incomplete multipart upload could not be aborted (AccessDenied)");
      expect(message).toContain(`Allow s3:AbortMultipartUpload on arn:aws:s3:::${BUCKET}/${key}, or give the bucket a lifecycle rule`);
    } finally {
      gateway.failing.clear();
      gateway.policy = undefined;
    }
    const operations = gateway.operations();
    expect(operations).toContain("CreateMultipartUpload");
    expect(operations).toContain("UploadPart");
    expect(operations).not.toContain("CompleteMultipartUpload");
    expect(gateway.requests.filter((request) => request.operation === "AbortMultipartUpload").map((request) => request.allowed)).toEqual([false]);
    expect(await objectBytes(s3.client, BUCKET, key)).toEqual(before);
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([key]);
    await expect(stat(second)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("a failed multipart upload is aborted when the policy allows it", async () => {
    const made = store({ partSize: 5 * MIB, queueSize: 2 }, "gateway");
    const staged = await made.stagingPath(dataKey("large"));
    await writeFile(staged, randomBytes(11 * MIB));
    await made.check();
    gateway.clear();
    gateway.failing.add("CompleteMultipartUpload");
    // s3rver cannot abort (it answers 405), so the gateway plays S3's answer to an allowed abort.
    gateway.answering.set("AbortMultipartUpload", 204);
    try {
      const error = await made.putFile(dataKey("large"), staged).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect((error as Error).message).toBe(
        `S3 answered InternalError (HTTP 500) to s3:PutObject on 's3://${BUCKET}/${made.prefix}/large.parquet': We encountered an internal error. Please try again.`,
      );
    } finally {
      gateway.failing.clear();
      gateway.answering.clear();
    }
    expect(gateway.operations().filter((operation) => operation === "AbortMultipartUpload")).toHaveLength(1);
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([]);
  });

  test("a file above partSize is uploaded in parts and reads back byte for byte", async () => {
    const made = store({ partSize: 5 * MIB, queueSize: 2 }, "gateway");
    const staged = await made.stagingPath(dataKey("large"));
    // md5 hex strings are unique and incompressible enough: ~12 MB of Parquet without compression.
    await duckdb(
      `COPY (SELECT range AS id, md5(range::VARCHAR) || md5((range * 7919)::VARCHAR) AS payload FROM range(160000)) ` +
        `TO ${literal(staged)} (FORMAT parquet, COMPRESSION uncompressed)`,
    );
    const { size } = await stat(staged);
    expect(size).toBeGreaterThan(10 * MIB);
    const localHash = await sha256(staged);

    gateway.clear();
    const stored = await made.putFile(dataKey("large"), staged);
    expect(stored).toEqual({ uri: `s3://${BUCKET}/${made.prefix}/large.parquet`, bytes: size, etag: expect.any(String) });
    expect((await made.head(dataKey("large")))?.etag).toBe(stored.etag);
    const operations = gateway.operations();
    expect(operations.filter((operation) => operation === "CreateMultipartUpload")).toHaveLength(1);
    expect(operations.filter((operation) => operation === "UploadPart").length).toBeGreaterThanOrEqual(2);
    expect(operations.filter((operation) => operation === "CompleteMultipartUpload")).toHaveLength(1);
    expect(operations).not.toContain("PutObject");
    await expect(stat(staged)).rejects.toMatchObject({ code: "ENOENT" });

    const remote = await objectBytes(s3.client, BUCKET, `${made.prefix}/large.parquet`);
    expect(createHash("sha256").update(remote).digest("hex")).toBe(localHash);
    const fresh = store({ prefix: made.prefix, cacheDirectory: path.join(s3.directory, `cache-${randomUUID()}`) });
    expect(await sha256((await fresh.getFile(dataKey("large")))!)).toBe(localHash);
  });
});
