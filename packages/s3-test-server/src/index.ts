/// <reference path="./s3rver.d.ts" />
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AbortMultipartUploadCommand, ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import bucketController from "s3rver/lib/controllers/bucket";
import { multipartUploads } from "./multipart-uploads";

/** The access key pair s3rver knows (it has exactly one account). */
export const S3RVER_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

/**
 * An s3rver running in this process on 127.0.0.1 (an ephemeral port unless one is given), with its
 * data in a temp directory. Added to s3rver: ListMultipartUploads and AbortMultipartUpload (see
 * `multipart-uploads.ts`), and ListObjectsV2 paging that works on Node 20.
 */
export interface TestS3Server {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** The temp directory holding the server's data and the stores' caches. */
  directory: string;
  /** A plain S3 client on the server, for looking at the bucket from the outside. */
  client: S3Client;
  /** Every key in `bucket` (under `prefix`), sorted. */
  keys(bucket: string, prefix?: string): Promise<string[]>;
  /** The multipart uploads in `bucket` (under `prefix`) that were created and neither completed nor aborted, through ListMultipartUploads, sorted by key. */
  incompleteUploads(bucket: string, prefix?: string): Promise<Array<{ key: string; uploadId: string }>>;
  /** Aborts the incomplete multipart uploads in `bucket` (under `prefix`), as a lifecycle rule would. */
  abortIncompleteUploads(bucket: string, prefix?: string): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

interface ListedObjects {
  objects: Array<{ key: string }>;
  isTruncated: boolean;
}

interface ListingStore {
  listObjects(...args: unknown[]): Promise<ListedObjects>;
}

/**
 * s3rver 3.7.1 makes ListObjectsV2 continuation tokens with DES, which Node 20's OpenSSL no
 * longer has: any truncated listing (even MaxKeys 1 on a prefix with two objects) answers 500.
 * This swaps in plain base64url tokens of the last key, so that paging works as on S3.
 */
function patchContinuationTokens(): void {
  const original = bucketController.getBucket as typeof bucketController.getBucket & { patched?: true };
  if (original.patched) return;
  const patched = async (context: any): Promise<void> => {
    if (context.query["list-type"] !== "2") return original(context);
    const token: string | undefined = context.query["continuation-token"] || undefined;
    if (token !== undefined) {
      const { "continuation-token": _token, ...query } = context.query;
      context.query = { ...query, "start-after": Buffer.from(token, "base64url").toString("utf8") };
    }
    const store = context.store as ListingStore;
    let last: string | undefined;
    let truncated = false;
    context.store = Object.create(store, {
      listObjects: {
        value: async (...args: unknown[]) => {
          const result = await store.listObjects(...args);
          truncated = result.isTruncated;
          last = result.objects.at(-1)?.key;
          return { ...result, isTruncated: false };
        },
      },
    });
    try {
      await original(context);
    } finally {
      delete context.store;
    }
    const body = context.body.ListBucketResult;
    if (token !== undefined) {
      body.StartAfter = undefined;
      body.ContinuationToken = token;
    }
    if (truncated && last !== undefined) {
      body.IsTruncated = true;
      body.NextContinuationToken = Buffer.from(last).toString("base64url");
    }
  };
  bucketController.getBucket = Object.assign(patched, { patched: true as const });
}

/** Starts s3rver with the given buckets already created; `port` 0 (the default) picks a free one. */
export async function startS3Server(buckets: string[], options: { port?: number } = {}): Promise<TestS3Server> {
  patchContinuationTokens();
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-s3-test-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    silent: true,
    directory: path.join(directory, "s3rver"),
    configureBuckets: buckets.map((name) => ({ name })),
  });
  // Just before the router: after s3rver's logging, XML encoding and path rewriting.
  server.middleware.splice(server.middleware.length - 1, 0, multipartUploads(path.join(directory, "s3rver")));
  const address = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const client = plainClient(endpoint);
  const testServer: TestS3Server = {
    endpoint,
    directory,
    client,
    async keys(bucket, prefix) {
      const listing = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      return (listing.Contents ?? []).map((entry) => entry.Key!).sort();
    },
    async incompleteUploads(bucket, prefix) {
      const listing = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
      return (listing.Uploads ?? []).map((upload) => ({ key: upload.Key!, uploadId: upload.UploadId! }));
    },
    async abortIncompleteUploads(bucket, prefix) {
      for (const upload of await testServer.incompleteUploads(bucket, prefix)) {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.key, UploadId: upload.uploadId }));
      }
    },
    async close() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
  return testServer;
}

/** An S3 client for `endpoint` with s3rver's credentials, path-style, without the checksum trailers s3rver cannot read. */
export function plainClient(endpoint: string, credentials = S3RVER_CREDENTIALS): S3Client {
  return new S3Client({
    endpoint,
    region: "us-east-1",
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}
