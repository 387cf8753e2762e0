// S3Store.putFile stopped by its AbortSignal in the middle of a multipart upload: the parts being
// sent are cut off, the upload is aborted (or, when the policy denies it, said to be left for the
// bucket's lifecycle rule), nothing is published and the staged file is removed. The bucket is
// looked at with ListMultipartUploads.
import { randomBytes, randomUUID } from "node:crypto";
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { CreateMultipartUploadCommand, GetObjectCommand, UploadPartCommand } from "@aws-sdk/client-s3";
import { StoreAccessError } from "@mlforge/core";
import { dataKey } from "@mlforge/core/store-kit";
import { S3Store } from "@mlforge/store-s3";
import { FaultGateway } from "./support/fault-gateway";
import { IamGateway, type IamPolicy } from "./support/iam-gateway";
import { FULL } from "./support/policies";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

// The bucket of storage-backends.md, so that its policies apply word for word.
const BUCKET = "mlforge-features";
const MIB = 1024 * 1024;

jest.setTimeout(30_000);

/** storage-backends.md's full policy, which grants no s3:AbortMultipartUpload, and the same allowing it. */
const NO_ABORT = FULL;
const WITH_ABORT: IamPolicy = { Statement: [{ ...FULL.Statement[0]!, Action: [...(FULL.Statement[0]!.Action as string[]), "s3:AbortMultipartUpload"] }] };

let s3: TestS3Server;
let gateway: IamGateway;
let faults: FaultGateway;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  faults = await FaultGateway.start(s3.endpoint);
});

afterEach(() => {
  gateway.policy = undefined;
  faults.reset();
});

afterAll(async () => {
  await faults?.close();
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

/** A store through `endpoint` under a fresh prefix, uploading 5 MiB parts one at a time. */
function store(endpoint: string): S3Store {
  return new S3Store({
    bucket: BUCKET,
    prefix: `interrupt/${randomUUID()}`,
    endpoint,
    credentials: S3RVER_CREDENTIALS,
    partSize: 5 * MIB,
    queueSize: 1,
    cacheDirectory: path.join(s3.directory, "cache"),
  });
}

/** A staged file of `bytes` random bytes for `name`. */
async function staged(made: S3Store, name: string, bytes: number): Promise<string> {
  const file = await made.stagingPath(dataKey(name));
  await writeFile(file, randomBytes(bytes));
  return file;
}

async function objectBytes(key: string): Promise<Buffer> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

/** Resolves once `condition` holds, checked every 2 ms. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

/** How `work` settled: its error, or "resolved". */
async function settled(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => "resolved",
    (error: unknown) => error,
  );
}

describe("the test server's multipart uploads (what the interrupt tests count on)", () => {
  test("ListMultipartUploads lists an open upload until AbortMultipartUpload removes it; a part sent after is NoSuchUpload", async () => {
    const key = `server/${randomUUID()}.bin`;
    const { UploadId } = await s3.client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: key }));
    expect(await s3.incompleteUploads(BUCKET, "server/")).toEqual([{ key, uploadId: UploadId }]);
    expect(await s3.incompleteUploads(BUCKET, "elsewhere/")).toEqual([]);
    await s3.abortIncompleteUploads(BUCKET, "server/");
    expect(await s3.incompleteUploads(BUCKET, "server/")).toEqual([]);
    await expect(s3.client.send(new UploadPartCommand({ Bucket: BUCKET, Key: key, UploadId, PartNumber: 1, Body: "part" }))).rejects.toMatchObject({ name: "NoSuchUpload" });
    expect(await s3.incompleteUploads(BUCKET, "server/")).toEqual([]);
  });
});

describe("putFile stopped by its signal", () => {
  test("already aborted: nothing is sent, the staged file is removed, the reason is the rejection", async () => {
    const made = store(gateway.endpoint);
    const file = await staged(made, "early", 1024);
    gateway.clear();
    const reason = new Error("stopped before it began");
    expect(await settled(made.putFile(dataKey("early"), file, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(gateway.operations()).toEqual([]);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test.each([
    ["CreateMultipartUpload", 1],
    ["UploadPart", 2],
  ] as const)("at %s #%i, abort allowed: the upload is aborted, the previous object stays, nothing is left", async (operation, count) => {
    gateway.policy = WITH_ABORT;
    const made = store(gateway.endpoint);
    const key = `${made.prefix}/large.parquet`;
    await made.putFile(dataKey("large"), await staged(made, "large", 1024));
    const before = await objectBytes(key);
    const file = await staged(made, "large", 12 * MIB);
    gateway.clear();

    const controller = new AbortController();
    const reason = new Error("interrupted");
    const upload = settled(made.putFile(dataKey("large"), file, { signal: controller.signal }));
    await until(() => gateway.operations().filter((seen) => seen === operation).length >= count);
    controller.abort(reason);
    expect(await upload).toBe(reason);

    const operations = gateway.operations();
    expect(operations).not.toContain("CompleteMultipartUpload");
    expect(gateway.requests.filter((request) => request.operation === "AbortMultipartUpload").map((request) => [request.allowed, request.status])).toEqual([[true, 204]]);
    // The abort came last: no part was still being sent to an upload already aborted.
    expect(operations.at(-1)).toBe("AbortMultipartUpload");
    expect(await s3.incompleteUploads(BUCKET, made.prefix)).toEqual([]);
    expect(await objectBytes(key)).toEqual(before);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  test("abort denied: rejects saying the incomplete upload was left for the lifecycle rule, which lists it", async () => {
    gateway.policy = NO_ABORT;
    const made = store(gateway.endpoint);
    const key = `${made.prefix}/large.parquet`;
    const file = await staged(made, "large", 12 * MIB);
    gateway.clear();
    const controller = new AbortController();
    const upload = settled(made.putFile(dataKey("large"), file, { signal: controller.signal }));
    await until(() => gateway.operations().includes("UploadPart"));
    const reason = new Error("Interrupted by Ctrl-C.");
    controller.abort(reason);
    const error = await upload;

    expect(error).toBeInstanceOf(StoreAccessError);
    expect(error).toMatchObject({ reason: "access-denied", operation: "putFile", cause: reason });
    expect((error as Error).message).toBe(
      `The upload to 's3://${BUCKET}/${key}' was stopped (Interrupted by Ctrl-C.), and its incomplete multipart upload could not be aborted (AccessDenied): ` +
        `it was left for the bucket's lifecycle rule that aborts incomplete multipart uploads; its parts stay in the bucket, unseen and billed, until such a rule or an abort removes them. ` +
        `Allow s3:AbortMultipartUpload on arn:aws:s3:::${BUCKET}/${made.prefix}/* so that mlforge aborts such uploads, and give the bucket that rule.`,
    );
    expect(gateway.requests.filter((request) => request.operation === "AbortMultipartUpload").map((request) => request.allowed)).toEqual([false]);
    expect(await s3.incompleteUploads(BUCKET, made.prefix)).toEqual([{ key, uploadId: expect.any(String) }]);
    expect(await s3.keys(BUCKET, made.prefix)).toEqual([]);
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    await s3.abortIncompleteUploads(BUCKET, made.prefix);
  });

  test("a part the server never answers is cut off at once, not waited for", async () => {
    const made = store(faults.endpoint);
    const file = await staged(made, "large", 12 * MIB);
    faults.inject({ fault: { kind: "hang" }, times: Infinity, operations: ["UploadPart"] });
    const controller = new AbortController();
    const upload = settled(made.putFile(dataKey("large"), file, { signal: controller.signal }));
    await until(() => faults.operations().includes("UploadPart"));
    const reason = new Error("interrupted");
    const aborted = performance.now();
    controller.abort(reason);
    expect(await upload).toBe(reason);
    // The client's socket timeout is 30 s: the part request was cut, not timed out.
    expect(performance.now() - aborted).toBeLessThan(2_000);
    expect(faults.operations().filter((operation) => operation === "UploadPart")).toHaveLength(1);
    expect(faults.operations().at(-1)).toBe("AbortMultipartUpload");
    expect(await s3.incompleteUploads(BUCKET, made.prefix)).toEqual([]);
  });
});
