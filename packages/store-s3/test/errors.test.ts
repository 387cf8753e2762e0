import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { MlforgeError, StoreAccessError } from "@mlforge/core";
import { dataKey, listFeatureNames, metadataKey } from "@mlforge/core/store-kit";
import { S3Store, type S3StoreOptions } from "@mlforge/store-s3";
import { IamGateway } from "./support/iam-gateway";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-errors";
const SENTENCE = `Bucket '${BUCKET}' does not exist or is not accessible. Ensure the bucket is created and credentials have appropriate permissions.`;

// Failing requests are retried (five attempts, with backoff) before the error is reported.
jest.setTimeout(30_000);

let s3: TestS3Server;
let gateway: IamGateway;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
});

afterEach(() => {
  gateway.policy = undefined;
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

function store(options: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({
    bucket: BUCKET,
    prefix: `errors/${randomUUID()}`,
    endpoint: gateway.endpoint,
    credentials: S3RVER_CREDENTIALS,
    cacheDirectory: path.join(s3.directory, "cache"),
    ...options,
  });
}

/** The StoreAccessError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<StoreAccessError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreAccessError);
  expect(MlforgeError.isInstance(error)).toBe(true);
  return error as StoreAccessError;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("a missing bucket: check() fails with the bucket sentence and the SDK error as cause", async () => {
  const error = await failure(store({ bucket: "no-such-bucket", endpoint: s3.endpoint }).check());
  expect(error.message.startsWith(
    "Bucket 'no-such-bucket' does not exist or is not accessible. Ensure the bucket is created and credentials have appropriate permissions.",
  )).toBe(true);
  expect(error.message).toContain("NoSuchBucket");
  expect(error.message).toContain("aws s3 mb s3://no-such-bucket");
  expect((error.cause as { name?: string }).name).toBe("NoSuchBucket");
});

test("every operation checks access first, so a missing bucket fails each of them the same way", async () => {
  const missing = store({ bucket: "no-such-bucket", endpoint: s3.endpoint });
  for (const operation of [
    () => missing.getText(metadataKey("a")),
    () => missing.putText(metadataKey("a"), "{}"),
    () => listFeatureNames(missing),
    () => missing.getFile(dataKey("a")),
    () => missing.stagingPath(dataKey("a")),
  ]) {
    expect((await failure(operation())).message).toMatch(/^Bucket 'no-such-bucket' does not exist or is not accessible\./);
  }
});

test("a wrong secret: the credentials are rejected, and neither the key id nor the secret is in the message", async () => {
  const secret = "wrong-secret-K9xQ2vT7";
  const error = await failure(store({ credentials: { accessKeyId: "S3RVER", secretAccessKey: secret } }).check());
  expect(error.message.startsWith(SENTENCE)).toBe(true);
  expect(error.message).toContain("S3 rejected the credentials (SignatureDoesNotMatch)");
  expect(error.message).toContain("the 'credentials' option passed to S3Store");
  expect(error.message).not.toContain(secret);
  expect(error.message).not.toContain("S3RVER");
});

test("an unknown access key id: the credentials are rejected, the key id is not in the message", async () => {
  const keyId = "AKIAUNKNOWNKEY000001";
  const secret = "some-secret-P3nB8wQ1";
  const error = await failure(store({ endpoint: s3.endpoint, credentials: { accessKeyId: keyId, secretAccessKey: secret } }).check());
  expect(error.message).toContain("S3 rejected the credentials (InvalidAccessKeyId)");
  expect(error.message).not.toContain(keyId);
  expect(error.message).not.toContain(secret);
});

test("credentials from the environment: the message says where the SDK's chain found them", async () => {
  const saved = { ...process.env };
  const secret = "env-secret-Z4mR6sL0";
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: secret });
  try {
    const error = await failure(
      new S3Store({ bucket: BUCKET, prefix: "env", endpoint: gateway.endpoint, cacheDirectory: path.join(s3.directory, "cache") }).check(),
    );
    expect(error.message).toContain("S3 rejected the credentials (SignatureDoesNotMatch)");
    expect(error.message).toContain("AWS_ACCESS_KEY_ID is set in this environment");
    expect(error.message).toContain("AWS_PROFILE");
    expect(error.message).not.toContain(secret);
  } finally {
    process.env = saved;
  }
});

test("no credentials anywhere: the message lists the ways to provide them", async () => {
  const saved = { ...process.env };
  for (const name of Object.keys(process.env)) if (name.startsWith("AWS_")) delete process.env[name];
  const empty = path.join(s3.directory, "no-such-aws-config");
  Object.assign(process.env, { AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty, AWS_EC2_METADATA_DISABLED: "true" });
  try {
    const error = await failure(new S3Store({ bucket: BUCKET, endpoint: gateway.endpoint, cacheDirectory: path.join(s3.directory, "cache") }).check());
    expect(error.message).toContain("No AWS credentials were found");
    expect(error.message).toContain("AWS_PROFILE");
  } finally {
    process.env = saved;
  }
});

test("an endpoint that refuses connections: a clear message naming the endpoint, after a bounded number of attempts", async () => {
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const error = await failure(store({ endpoint }).check());
  expect(error.message.startsWith(SENTENCE)).toBe(true);
  expect(error.message).toContain(`Could not connect to ${endpoint} (ECONNREFUSED)`);
  expect(error.message).toContain("Check the 'endpoint' option");
}, 20_000);

test("a bucket in another region: the message names both regions", async () => {
  const regional = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS, bucketRegion: "eu-west-1" });
  try {
    const error = await failure(store({ endpoint: regional.endpoint, region: "us-east-1" }).check());
    expect(error.message.startsWith(SENTENCE)).toBe(true);
    expect(error.message).toContain("The bucket is in region 'eu-west-1' but the store is configured for region 'us-east-1'");
    expect(error.message).toContain("region: 'eu-west-1'");
  } finally {
    await regional.close();
  }
});

test("s3:ListBucket denied: check() names the action and the prefix", async () => {
  const made = store();
  gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: [`arn:aws:s3:::${BUCKET}/*`] }] };
  const error = await failure(made.check());
  expect(error.message.startsWith(SENTENCE)).toBe(true);
  expect(error.message).toContain(`Access denied: these credentials may not perform s3:ListBucket on prefix '${made.prefix}/' of bucket '${BUCKET}'`);
  expect(error.message).toContain(`arn:aws:s3:::${BUCKET}`);
});

test("s3:PutObject denied: the message names the action and the key", async () => {
  const made = store();
  gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:GetObject", "s3:ListBucket"], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }] };
  const error = await failure(made.putText(metadataKey("user_total_spend"), "{}"));
  const key = `${made.prefix}/_metadata/user_total_spend.json`;
  expect(error.message).toBe(
    `Access denied: these credentials may not perform s3:PutObject on 's3://${BUCKET}/${key}'. ` +
      `Allow s3:PutObject on arn:aws:s3:::${BUCKET}/${key} in their IAM policy (see the IAM policies in the @mlforge/store-s3 README).`,
  );
  expect((error.cause as { name?: string }).name).toBe("AccessDenied");
});

test("s3:GetObject denied on an existing object: the message names the action and the key, for data and metadata alike", async () => {
  const made = store();
  await made.putText(metadataKey("user_total_spend"), "{}");
  const staged = await made.stagingPath(dataKey("user_total_spend"));
  await writeFile(staged, "not really parquet");
  await made.putFile(dataKey("user_total_spend"), staged);
  gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:PutObject", "s3:ListBucket"], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }] };

  const metadata = await failure(made.getText(metadataKey("user_total_spend")));
  expect(metadata.message).toContain(`s3:GetObject on 's3://${BUCKET}/${made.prefix}/_metadata/user_total_spend.json'`);
  // HEAD answers a bare 403 without an error code; it is still named as s3:GetObject.
  const data = await failure(made.getFile(dataKey("user_total_spend")));
  expect(data.message).toContain(`s3:GetObject on 's3://${BUCKET}/${made.prefix}/user_total_spend.parquet'`);
  // Without s3:GetObject a missing object is still reported as missing (asked with s3:ListBucket), not as an error.
  expect(await made.getText(metadataKey("never_built"))).toBeUndefined();
  expect(await made.getFile(dataKey("never_built"))).toBeUndefined();
});
