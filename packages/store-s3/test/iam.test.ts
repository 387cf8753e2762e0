import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { GetObjectCommand, HeadBucketCommand } from "@aws-sdk/client-s3";
import { BuildError, Definitions, StoreAccessError } from "@mlforge/core";
import { dataKey, listFeatureNames } from "@mlforge/core/store-kit";
import { S3Store } from "@mlforge/store-s3";
import type { IamPolicy } from "./support/iam-gateway";
import { useIamFixture } from "./support/iam-fixture";
import { FULL, READ_ONLY, WRITE_ONLY } from "./support/policies";
import { duckdb, literal, userTotalSpend } from "./support/fixtures";
import { plainClient } from "./support/s3-server";

// The bucket of storage-backends.md, so that its policies apply word for word.
const BUCKET = "mlforge-features";
const SENTENCE = `Bucket '${BUCKET}' does not exist or is not accessible. Ensure the bucket is created and credentials have appropriate permissions.`;

jest.setTimeout(30_000);

/** storage-backends.md, "Prefix-Based Access Control", word for word. */
const PREFIX_LITERAL: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeProductionAccess",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
      Resource: ["arn:aws:s3:::mlforge-features", "arn:aws:s3:::mlforge-features/prod/*"],
      Condition: { StringLike: { "s3:prefix": ["prod/*"] } },
    },
  ],
};

/** The working form of the prefix-based policy (API.md): the condition only on s3:ListBucket. */
const PREFIX_WORKING: IamPolicy = {
  Version: "2012-10-17",
  Statement: [
    {
      Sid: "mlforgeProductionList",
      Effect: "Allow",
      Action: "s3:ListBucket",
      Resource: "arn:aws:s3:::mlforge-features",
      Condition: { StringLike: { "s3:prefix": ["prod/*"] } },
    },
    {
      Sid: "mlforgeProductionObjects",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject"],
      Resource: "arn:aws:s3:::mlforge-features/prod/*",
    },
  ],
};

const fixture = useIamFixture(BUCKET);
const { store } = fixture;

beforeEach(() => {
  fixture.gateway.policy = undefined;
  fixture.gateway.clear();
});

function definitions(offlineStore: S3Store): Definitions {
  return new Definitions({ name: "iam", features: [userTotalSpend(fixture.transactions)], offlineStore });
}

/** Builds `user_total_spend` into a store under `prefix` with the full policy, then forgets the requests. */
async function built(prefix?: string): Promise<string> {
  const made = store(prefix);
  fixture.gateway.policy = FULL;
  await definitions(made).build();
  fixture.gateway.clear();
  return made.prefix;
}

/** The text of an object, read with a plain client (no policy). */
async function objectText(key: string): Promise<string | undefined> {
  const response = await fixture.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return response.Body?.transformToString("utf8");
}

/** The kept versions' documents under `prefix`, read with a plain client, newest first. */
async function s3Versions(prefix: string): Promise<Array<{ buildId: string }>> {
  const keys = (await fixture.s3.keys(BUCKET, `${prefix}/_versions/`)).filter((key) => key.endsWith(".json")).reverse();
  return Promise.all(keys.map(async (key) => JSON.parse((await objectText(key))!) as { buildId: string }));
}

async function rowsOf(file: string): Promise<Record<string, unknown>[]> {
  return duckdb(`SELECT user_id, total_spend FROM read_parquet(${literal(file)}) ORDER BY user_id`);
}

const expectedRows = [
  { user_id: "u1", total_spend: 15.5 },
  { user_id: "u2", total_spend: 7 },
];

function expectNoDelete(): void {
  const actions = fixture.gateway.requests.map((request) => request.action);
  expect(actions).not.toContain("s3:DeleteObject");
  expect(actions).not.toContain("s3:AbortMultipartUpload");
}

test("full policy: build, list, metadata and read work, and use only ListBucket, GetObject and PutObject", async () => {
  fixture.gateway.policy = FULL;
  const made = store();
  const defs = definitions(made);
  await defs.build();
  expect((await defs.metadata("user_total_spend"))?.rows).toBe(2);
  expect(await rowsOf((await made.getFile(dataKey("user_total_spend")))!)).toEqual(expectedRows);
  expect(fixture.gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket", "s3:PutObject"]);
  expectNoDelete();
});

test("write-only policy: a build succeeds with s3:PutObject and s3:ListBucket alone", async () => {
  fixture.gateway.policy = WRITE_ONLY;
  const made = store();
  const result = await definitions(made).build();
  expect(result.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  const buildId = (await s3Versions(made.prefix))[0]?.buildId;
  expect(await fixture.s3.keys(BUCKET, made.prefix)).toEqual([
    `${made.prefix}/_metadata/user_total_spend.json`,
    `${made.prefix}/_versions/user_total_spend/${buildId}.json`,
    `${made.prefix}/_versions/user_total_spend/${buildId}.parquet`,
    `${made.prefix}/user_total_spend.parquet`,
  ]);
  // Looking for a previous build's metadata asks s3:GetObject, which is denied; a listing then
  // shows there is none, so the build goes on. So does the HEAD asking whether there is current
  // data built without versions, to keep. Copying the kept version to the current key needs
  // s3:GetObject too (its HEAD is denied): the build uploads the data again instead.
  expect(fixture.gateway.allowedActions()).toEqual(["s3:ListBucket", "s3:PutObject"]);
  expect(fixture.gateway.requests.filter((request) => !request.allowed).map((request) => [request.operation, request.resource])).toEqual([
    ["GetObject", `arn:aws:s3:::${BUCKET}/${made.prefix}/_metadata/user_total_spend.json`],
    ["HeadObject", `arn:aws:s3:::${BUCKET}/${made.prefix}/user_total_spend.parquet`],
    ["HeadObject", `arn:aws:s3:::${BUCKET}/${made.prefix}/_versions/user_total_spend/${buildId}.parquet`],
  ]);

  // A forced rebuild (no look at the previous build) works too.
  const again = await definitions(made).build({ force: true });
  expect(again.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(fixture.gateway.allowedActions()).toEqual(["s3:ListBucket", "s3:PutObject"]);
  expectNoDelete();
});

test("write-only policy: a build that is not forced cannot read the previous metadata, so it rebuilds, and succeeds", async () => {
  fixture.gateway.policy = WRITE_ONLY;
  const made = store();
  await definitions(made).build();
  fixture.gateway.clear();

  const again = await definitions(made).build();
  expect(again.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  expect(again.skipped).toEqual([]);
  // The metadata now exists, so its denied GET cannot be taken for "never built": core rebuilds.
  const { buildId } = JSON.parse((await objectText(`${made.prefix}/_metadata/user_total_spend.json`))!);
  expect(fixture.gateway.requests.filter((request) => !request.allowed).map((request) => [request.operation, request.resource])).toEqual([
    ["GetObject", `arn:aws:s3:::${BUCKET}/${made.prefix}/_metadata/user_total_spend.json`],
    ["HeadObject", `arn:aws:s3:::${BUCKET}/${made.prefix}/_versions/user_total_spend/${buildId}.parquet`],
  ]);
  expect(fixture.gateway.allowedActions()).toEqual(["s3:ListBucket", "s3:PutObject"]);
  // The kept version's data and document, the current data (uploaded again: no copy without s3:GetObject), the current document.
  expect(fixture.gateway.operations().filter((operation) => operation === "PutObject")).toHaveLength(4);
  expectNoDelete();

  fixture.gateway.policy = READ_ONLY;
  expect(await rowsOf((await store(made.prefix).getFile(dataKey("user_total_spend")))!)).toEqual(expectedRows);
});

test("read-only policy: list, metadata and reading the feature succeed with s3:GetObject and s3:ListBucket alone", async () => {
  const prefix = await built();
  fixture.gateway.policy = READ_ONLY;
  const made = store(prefix);
  const defs = definitions(made);

  const [listing] = await defs.list();
  expect(listing?.feature.name).toBe("user_total_spend");
  expect(listing?.metadata?.rows).toBe(2);
  expect((await defs.metadata("user_total_spend"))?.keys).toEqual(["user_id"]);
  expect(await listFeatureNames(made)).toEqual(["user_total_spend"]);
  expect(await rowsOf((await made.getFile(dataKey("user_total_spend")))!)).toEqual(expectedRows);

  const frame = await defs.read("user_total_spend");
  try {
    expect(await frame.rows()).toEqual(expectedRows);
  } finally {
    await frame.close();
  }
  const training = await defs.getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: "u2" }, { user_id: "u1" }, { user_id: "u3" }] });
  try {
    expect(await training.rows()).toEqual([
      { user_id: "u2", total_spend: 7 },
      { user_id: "u1", total_spend: 15.5 },
      { user_id: "u3", total_spend: null },
    ]);
  } finally {
    await training.close();
  }

  expect(fixture.gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  expect(fixture.gateway.requests.every((request) => request.allowed)).toBe(true);
  expectNoDelete();
});

test("read-only policy: a build fails with a message naming s3:PutObject and the key, and writes nothing", async () => {
  const prefix = await built();
  const before = await fixture.s3.keys(BUCKET);
  const dataBefore = await readFile((await store(prefix).getFile(dataKey("user_total_spend")))!);
  fixture.gateway.clear();
  fixture.gateway.policy = READ_ONLY;
  const made = store(prefix);

  const error = await definitions(made)
    .build({ force: true })
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error).toBeInstanceOf(BuildError);
  const failure = (error as BuildError).result.failed[0]?.error;
  expect(failure).toBeInstanceOf(StoreAccessError);
  // The build is stored as a version first: its data is the first write denied.
  expect(failure?.message).toMatch(new RegExp(`^Access denied: these credentials may not perform s3:PutObject on 's3://${BUCKET}/${prefix}/_versions/user_total_spend/[0-9a-f]{32}\\.parquet'`));
  expect((error as Error).message).toContain("s3:PutObject");

  expect(await fixture.s3.keys(BUCKET)).toEqual(before);
  expect(await readFile((await store(prefix).getFile(dataKey("user_total_spend")))!)).toEqual(dataBefore);
  expectNoDelete();
});

test("working prefix-based policy: a store under prod/ builds and reads; one under dev/ is denied with a clear message", async () => {
  fixture.gateway.policy = PREFIX_WORKING;
  const production = store(`prod/${randomUUID()}/features`);
  const defs = definitions(production);
  await defs.build();
  expect((await defs.list())[0]?.metadata?.rows).toBe(2);
  expect(await rowsOf((await production.getFile(dataKey("user_total_spend")))!)).toEqual(expectedRows);
  expect(fixture.gateway.requests.every((request) => request.allowed)).toBe(true);
  expect(fixture.gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket", "s3:PutObject"]);

  const development = store(`dev/${randomUUID()}/features`);
  const error = await definitions(development)
    .build()
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error).toBeInstanceOf(StoreAccessError);
  const message = (error as Error).message;
  expect(message.startsWith(SENTENCE)).toBe(true);
  expect(message).toContain(`s3:ListBucket on prefix '${development.prefix}/' of bucket '${BUCKET}'`);
  expect(await fixture.s3.keys(BUCKET, "dev/")).toEqual([]);
  expectNoDelete();
});

test("the literal prefix-based policy of storage-backends.md denies every object action (they carry no s3:prefix)", async () => {
  fixture.gateway.policy = PREFIX_LITERAL;
  const production = store(`prod/${randomUUID()}/features`);
  // Listing under prod/ is allowed: that request carries s3:prefix.
  await production.check();
  const error = await definitions(production)
    .build()
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect(error).toBeInstanceOf(BuildError);
  expect((error as BuildError).result.failed[0]?.error?.message).toMatch(new RegExp(`s3:PutObject on 's3://${BUCKET}/${production.prefix}/_versions/user_total_spend/[0-9a-f]{32}\\.parquet'`));
  const denied = fixture.gateway.requests.filter((request) => !request.allowed);
  expect(denied.length).toBeGreaterThan(0);
  expect(denied.every((request) => request.action !== "s3:ListBucket" && request.prefix === undefined)).toBe(true);
  expect(await fixture.s3.keys(BUCKET, production.prefix)).toEqual([]);

  // Reading an existing feature is denied too.
  const prefix = await built(`prod/${randomUUID()}/features`);
  fixture.gateway.policy = PREFIX_LITERAL;
  const reading = await store(prefix)
    .getFile(dataKey("user_total_spend"))
    .then(
      () => undefined,
      (reason: unknown) => reason,
    );
  expect((reading as Error).message).toContain(`s3:GetObject on 's3://${BUCKET}/${prefix}/user_total_spend.parquet'`);
  expectNoDelete();
});

test("HeadBucket is s3:ListBucket without a prefix, so a prefix-limited policy denies it: check() lists its prefix instead", async () => {
  fixture.gateway.policy = PREFIX_WORKING;
  const client = plainClient(fixture.gateway.endpoint);
  try {
    await expect(client.send(new HeadBucketCommand({ Bucket: BUCKET }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
  } finally {
    client.destroy();
  }
  await expect(store(`prod/${randomUUID()}`).check()).resolves.toBeUndefined();
  expect(fixture.gateway.requests.map((request) => [request.operation, request.allowed])).toEqual([
    ["HeadBucket", false],
    ["ListObjectsV2", true],
  ]);
});
