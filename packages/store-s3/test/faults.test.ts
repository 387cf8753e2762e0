// Network and server faults between S3Store and the bucket, injected by a gateway in front of
// s3rver: transient ones are retried with backoff and the build succeeds; persistent ones fail
// with a clear error within a bounded time, and metadata is never published for data that did
// not land.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { BuildError, Definitions, feature, StoreAccessError, type Feature } from "@mlforge/core";
import { dataKey } from "@mlforge/core/store-kit";
import { S3Store, type S3StoreOptions } from "@mlforge/store-s3";
import { MAX_ATTEMPTS } from "../src/s3-client";
import { FaultGateway } from "./support/fault-gateway";
import { duckdb, literal, userTotalSpend, writeTransactions } from "./support/fixtures";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-faults";
const MIB = 1024 * 1024;
/** Generous: each persistent fault below fails in a few seconds (a few attempts, backoff of at most hundreds of ms). */
const BOUND_MS = 30_000;

let s3: TestS3Server;
let gateway: FaultGateway;
let transactions: string;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  gateway = await FaultGateway.start(s3.endpoint);
  transactions = await writeTransactions(s3.directory);
});

afterEach(() => {
  gateway.reset();
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

function store(options: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: BUCKET,
    prefix: `faults/${randomUUID()}`,
    endpoint: gateway.endpoint,
    credentials: S3RVER_CREDENTIALS,
    cacheDirectory: path.join(s3.directory, "cache"),
    ...options,
  });
}

/** `rows` rows of 64 incompressible characters each: about 1 MB per 12 000 rows. */
function payload(rows: number): Feature {
  return feature({ name: "payload", keys: ["id"], source: transactions }, () =>
    `SELECT range AS id, md5(range::VARCHAR) || md5((range * 7919)::VARCHAR) AS payload FROM range(${rows})`,
  );
}

/** What a payload feature must hold: its row count and an order-independent hash of its rows, computed by the test's own DuckDB. */
async function payloadDigest(reader: string): Promise<Record<string, unknown>> {
  const [digest] = await duckdb(`SELECT count(*)::INTEGER AS rows, bit_xor(hash(id, payload))::VARCHAR AS digest FROM ${reader}`);
  return digest!;
}

function definitions(made: S3Store, features: Feature[]): Definitions {
  return new Definitions({ name: "faults", features, offlineStore: made });
}

async function objectBytes(key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** Every object under `prefix`, key → bytes. */
async function bucketSnapshot(prefix: string): Promise<Map<string, Buffer>> {
  const snapshot = new Map<string, Buffer>();
  for (const key of await s3.keys(BUCKET, prefix)) snapshot.set(key, await objectBytes(key));
  return snapshot;
}

/** The feature as stored, downloaded through a fresh store with its own cache. */
async function storedDigest(made: S3Store, name: string): Promise<Record<string, unknown>> {
  const fresh = new S3Store({ bucket: BUCKET, prefix: made.prefix, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(s3.directory, `cache-${randomUUID()}`) });
  return payloadDigest(`read_parquet(${literal((await fresh.getFile(dataKey(name)))!)})`);
}

async function buildFailure(promise: Promise<unknown>): Promise<BuildError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildError);
  return error as BuildError;
}

const faulted = (operation: string) => gateway.requests.filter((request) => request.operation === operation && request.fault !== undefined).length;

describe("transient faults are retried and the build succeeds", () => {
  test("500 InternalError and 503 SlowDown on the first requests", async () => {
    const made = store();
    gateway.inject({ fault: { kind: "error", status: 500, code: "InternalError" }, times: 2 });
    gateway.inject({ fault: { kind: "error", status: 503, code: "SlowDown" }, times: 2, operations: ["PutObject"] });
    const result = await definitions(made, [userTotalSpend(transactions)]).build();
    expect(result.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
    // The first two requests (the store's check) failed with 500 and were sent again; so were the first two uploads.
    expect(gateway.requests.slice(0, 3).map((request) => [request.operation, request.status])).toEqual([
      ["ListObjectsV2", 500],
      ["ListObjectsV2", 500],
      ["ListObjectsV2", 200],
    ]);
    expect(faulted("PutObject")).toBe(2);
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([
      `${made.prefix}/_metadata/user_total_spend.json`,
      expect.stringMatching(new RegExp(`^${made.prefix}/_versions/user_total_spend/[0-9a-f]{32}\\.json$`)),
      expect.stringMatching(new RegExp(`^${made.prefix}/_versions/user_total_spend/[0-9a-f]{32}\\.parquet$`)),
      `${made.prefix}/user_total_spend.parquet`,
    ]);
    const metadata = JSON.parse((await objectBytes(`${made.prefix}/_metadata/user_total_spend.json`)).toString());
    expect(metadata).toMatchObject({ rows: 2, bytes: (await objectBytes(`${made.prefix}/user_total_spend.parquet`)).length });
  });

  test("a connection reset in the middle of an upload: the upload is sent again and the object lands whole", async () => {
    const made = store();
    const expected = await payloadDigest(`(SELECT range AS id, md5(range::VARCHAR) || md5((range * 7919)::VARCHAR) AS payload FROM range(20000))`);
    gateway.inject({ fault: { kind: "reset", afterBytes: 256 * 1024 }, times: 1, operations: ["PutObject"], keySuffix: ".parquet" });
    const result = await definitions(made, [payload(20_000)]).build();
    expect(result.built.map((entry) => entry.name)).toEqual(["payload"]);
    expect(result.built[0]!.bytes).toBeGreaterThan(1 * MIB);
    const uploads = gateway.requests.filter((request) => request.operation === "PutObject" && request.key.endsWith(".parquet"));
    expect(uploads.map((request) => request.fault ?? request.status)).toEqual(["reset", 200]);
    expect(await storedDigest(made, "payload")).toEqual(expected);
  });

  test("a part of a multipart upload cut off midway is sent again, and the parts assemble into the whole file", async () => {
    const made = store({ partSize: 5 * MIB, queueSize: 2 });
    const expected = await payloadDigest(`(SELECT range AS id, md5(range::VARCHAR) || md5((range * 7919)::VARCHAR) AS payload FROM range(90000))`);
    gateway.inject({ fault: { kind: "reset", afterBytes: MIB }, times: 1, operations: ["UploadPart"] });
    const result = await definitions(made, [payload(90_000)]).build();
    expect(result.built[0]!.bytes).toBeGreaterThan(5 * MIB);
    const operations = gateway.operations();
    expect(operations.filter((operation) => operation === "CreateMultipartUpload")).toHaveLength(1);
    expect(faulted("UploadPart")).toBe(1);
    expect(operations.filter((operation) => operation === "CompleteMultipartUpload")).toHaveLength(1);
    expect(operations).not.toContain("AbortMultipartUpload");
    expect(await storedDigest(made, "payload")).toEqual(expected);
  });

  test("slow answers are waited for", async () => {
    const made = store();
    gateway.inject({ fault: { kind: "delay", ms: 800 }, times: 2 });
    const result = await definitions(made, [userTotalSpend(transactions)]).build();
    expect(result.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
    expect(gateway.requests.filter((request) => request.fault === "delay")).toHaveLength(2);
    // The current data and document, and the kept version's.
    expect(await s3.keys(BUCKET, made.prefix)).toHaveLength(4);
  });
});

describe("persistent faults fail clearly, in bounded time, and publish nothing", () => {
  test("the data upload keeps failing: the previous version and its metadata stay byte for byte, no metadata is written", async () => {
    const made = store();
    await definitions(made, [userTotalSpend(transactions)]).build();
    const before = await bucketSnapshot(made.prefix);
    const changed = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) => `SELECT user_id, sum(amount) * 2 AS total_spend FROM ${source} GROUP BY user_id`);
    gateway.reset();
    gateway.inject({ fault: { kind: "error", status: 500, code: "InternalError" }, times: Infinity, operations: ["PutObject"], keySuffix: ".parquet" });

    const started = performance.now();
    const error = await buildFailure(definitions(made, [changed]).build());
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
    const failure = error.result.failed[0]!.error!;
    expect(failure).toBeInstanceOf(StoreAccessError);
    // The build is stored as a version first: that upload is the one that fails.
    expect(failure.message).toMatch(
      new RegExp(`^S3 answered InternalError \\(HTTP 500\\) to s3:PutObject on 's3://${BUCKET}/${made.prefix}/_versions/user_total_spend/[0-9a-f]{32}\\.parquet': Injected InternalError\\.$`),
    );
    // Retried a bounded number of times; the metadata upload was never attempted.
    expect(faulted("PutObject")).toBe(MAX_ATTEMPTS);
    expect(gateway.requests.filter((request) => request.key.endsWith(".json") && request.operation === "PutObject")).toEqual([]);
    expect(await bucketSnapshot(made.prefix)).toEqual(before);
  });

  test("a multipart upload whose parts keep failing is aborted, and neither data nor metadata lands", async () => {
    const made = store({ partSize: 5 * MIB, queueSize: 2 });
    gateway.inject({ fault: { kind: "error", status: 500, code: "InternalError" }, times: Infinity, operations: ["UploadPart"] });
    const started = performance.now();
    const error = await buildFailure(definitions(made, [payload(90_000)]).build());
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
    expect(error.result.failed[0]!.error!.message).toMatch(new RegExp(`^S3 answered InternalError \\(HTTP 500\\) to s3:PutObject on 's3://${BUCKET}/${made.prefix}/_versions/payload/[0-9a-f]{32}\\.parquet'`));
    const parts = gateway.requests.filter((request) => request.operation === "UploadPart");
    const aborts = gateway.requests.filter((request) => request.operation === "AbortMultipartUpload");
    // One abort, of the very upload whose parts failed.
    expect(aborts).toHaveLength(1);
    expect(aborts[0]!.uploadId).toBe(parts[0]!.uploadId);
    expect(aborts[0]!.key).toMatch(new RegExp(`^${made.prefix}/_versions/payload/[0-9a-f]{32}\\.parquet$`));
    expect(gateway.operations()).not.toContain("CompleteMultipartUpload");
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([]);
  });

  test("a server that keeps answering 500 fails the store's check with the bucket sentence, before any work", async () => {
    const made = store();
    gateway.inject({ fault: { kind: "error", status: 500, code: "InternalError" }, times: Infinity });
    const started = performance.now();
    const error = await definitions(made, [userTotalSpend(transactions)]).build().then(
      () => undefined,
      (reason: unknown) => reason as Error,
    );
    expect(performance.now() - started).toBeLessThan(BOUND_MS);
    expect(error).toBeInstanceOf(StoreAccessError);
    expect(error!.message).toBe(
      `Bucket '${BUCKET}' does not exist or is not accessible. Ensure the bucket is created and credentials have appropriate permissions. ` +
        `S3 answered InternalError (HTTP 500) to s3:ListBucket on prefix '${made.prefix}/' of bucket '${BUCKET}': Injected InternalError.`,
    );
    expect(new Set(gateway.operations())).toEqual(new Set(["ListObjectsV2"]));
    expect(gateway.requests).toHaveLength(MAX_ATTEMPTS);
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([]);
  });

  test("an upload that never gets an answer times out, and its metadata is never published", async () => {
    // A ready client with short timeouts, so that the test does not wait for the default 30 s socket timeout.
    const client = new S3Client({
      endpoint: gateway.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: S3RVER_CREDENTIALS,
      maxAttempts: 2,
      requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true }),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
    try {
      const made = new S3Store({ bucket: BUCKET, prefix: `faults/${randomUUID()}`, client, cacheDirectory: path.join(s3.directory, "cache") });
      gateway.inject({ fault: { kind: "hang" }, times: Infinity, operations: ["PutObject"], keySuffix: ".parquet" });
      const started = performance.now();
      const error = await buildFailure(definitions(made, [userTotalSpend(transactions)]).build());
      expect(performance.now() - started).toBeLessThan(BOUND_MS);
      expect(error.result.failed[0]!.error!.message).toBe(
        "The S3Client's endpoint did not answer in time (ETIMEDOUT). Check the 'endpoint' option, the network and any proxy between here and S3.",
      );
      expect(gateway.requests.filter((request) => request.fault === "hang")).toHaveLength(2);
      expect(gateway.requests.filter((request) => request.key.endsWith(".json") && request.operation === "PutObject")).toEqual([]);
      expect(await s3.keys(BUCKET, made.prefix)).toEqual([]);
    } finally {
      client.destroy();
    }
  });

  test("the metadata upload keeps failing after the data landed: the build reports it, read() describes the new data, the next build repairs", async () => {
    const made = store();
    await definitions(made, [userTotalSpend(transactions)]).build();
    const previousDocument = (await objectBytes(`${made.prefix}/_metadata/user_total_spend.json`)).toString();
    const changed = feature({ name: "user_total_spend", keys: ["user_id"], source: transactions }, (source) =>
      `SELECT user_id, sum(amount) AS total_spend FROM ${source} WHERE user_id = 'u1' GROUP BY user_id`,
    );
    // The current document only: the kept version's document lands, and so does the current data.
    gateway.inject({ fault: { kind: "error", status: 500, code: "InternalError" }, times: Infinity, operations: ["PutObject"], keySuffix: "_metadata/user_total_spend.json" });
    const error = await buildFailure(definitions(made, [changed]).build());
    expect(error.result.failed[0]!.error!.message).toMatch(new RegExp(`^S3 answered InternalError \\(HTTP 500\\) to s3:PutObject on 's3://${BUCKET}/${made.prefix}/_metadata/user_total_spend.json'`));
    gateway.reset();

    // The data is the new version; the document is still the previous one, whole.
    expect((await objectBytes(`${made.prefix}/_metadata/user_total_spend.json`)).toString()).toBe(previousDocument);
    const frame = await definitions(made, [changed]).read("user_total_spend");
    expect(frame.numRows).toBe(1);
    expect(frame.metadata).toMatchObject({ rows: 1 });
    expect(frame.metadata!.buildId).not.toBe(JSON.parse(previousDocument).buildId);

    const again = await definitions(made, [changed]).build();
    expect(again.failed).toEqual([]);
    expect(JSON.parse((await objectBytes(`${made.prefix}/_metadata/user_total_spend.json`)).toString())).toMatchObject({ rows: 1 });
  });
});
