import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { BuildError, Definitions, feature, FeatureDefinitionError, SourceNotFoundError, StoreAccessError } from "@mlforge/core";
import type { SourceProvider } from "@mlforge/core/store-kit";
import { S3Store, s3Sources } from "@mlforge/store-s3";
import { IamGateway } from "./support/iam-gateway";
import { duckdb, literal } from "./support/fixtures";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const DATA = "mlforge-data";
const FEATURES = "mlforge-features";

jest.setTimeout(30_000);

let s3: TestS3Server;
let gateway: IamGateway;
let temporary: string;

beforeAll(async () => {
  s3 = await startS3Server([DATA, FEATURES]);
  // Sources go through the gateway, which counts (and may deny) their requests; the store does not.
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  temporary = path.join(s3.directory, "tmp");
  await mkdir(temporary);
});

beforeEach(() => {
  gateway.policy = undefined;
  gateway.clear();
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

/** A fresh folder of the data bucket, so that tests do not see each other's objects. */
function folder(): string {
  return `data-${randomUUID()}`;
}

async function put(key: string, body: string | Buffer): Promise<string> {
  await s3.client.send(new PutObjectCommand({ Bucket: DATA, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }));
  const head = await s3.client.send(new HeadObjectCommand({ Bucket: DATA, Key: key }));
  return head.ETag!.replaceAll('"', "");
}

/** A Parquet file of (user_id, amount) rows, made by DuckDB outside mlforge. */
async function parquet(rows: Array<[string, number]>): Promise<Buffer> {
  const file = path.join(s3.directory, `${randomUUID()}.parquet`);
  const values = rows.map(([user, amount]) => `(${literal(user)}, ${amount}::DOUBLE)`).join(", ");
  await duckdb(`COPY (SELECT * FROM (VALUES ${values}) AS t(user_id, amount)) TO ${literal(file)} (FORMAT parquet)`);
  return readFile(file);
}

function sources(): SourceProvider {
  return s3Sources({ endpoint: gateway.endpoint, credentials: S3RVER_CREDENTIALS });
}

function definitions(source: string, provider: SourceProvider | undefined = sources(), prefix = `features-${randomUUID()}`): Definitions {
  const spend = feature({ name: "user_total_spend", keys: ["user_id"], source }, (transactions) => `SELECT user_id, sum(amount)::DOUBLE AS total_spend FROM ${transactions} GROUP BY user_id`);
  return new Definitions({
    name: "sources",
    features: [spend],
    offlineStore: new S3Store({ bucket: FEATURES, prefix, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(s3.directory, "cache") }),
    ...(provider === undefined ? {} : { sources: [provider] }),
    engine: { tempDirectory: temporary },
  });
}

async function values(defs: Definitions): Promise<Record<string, unknown>[]> {
  const frame = await defs.read("user_total_spend");
  try {
    return (await frame.rows()).sort((a, b) => String(a.user_id).localeCompare(String(b.user_id)));
  } finally {
    await frame.close();
  }
}

/** The source objects downloaded (GetObject requests on the data bucket). */
function downloads(): string[] {
  return gateway.requests.filter((request) => request.operation === "GetObject" && request.resource.startsWith(`arn:aws:s3:::${DATA}/`)).map((request) => request.resource);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildError);
  const failed = (error as BuildError).result.failed[0]?.error;
  expect(failed).toBeDefined();
  return failed!;
}

test("a CSV object: built from the bucket, recorded with its ETag, downloads cleaned up", async () => {
  const key = `${folder()}/transactions.csv`;
  const content = "user_id,amount\nu1,10.5\nu2,7\nu1,5\n";
  const etag = await put(key, content);
  const defs = definitions(`s3://${DATA}/${key}`);
  const result = await defs.build();
  expect(result.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  expect(await values(defs)).toEqual([
    { user_id: "u1", total_spend: 15.5 },
    { user_id: "u2", total_spend: 7 },
  ]);
  expect((await defs.metadata("user_total_spend"))?.sourceFiles).toEqual([{ path: `s3://${DATA}/${key}`, size: Buffer.byteLength(content), version: etag }]);
  expect(downloads()).toEqual([`arn:aws:s3:::${DATA}/${key}`]);
  expect((await readdir(temporary)).filter((entry) => entry.startsWith("mlforge-"))).toEqual([]);
});

test("a Parquet object", async () => {
  const key = `${folder()}/transactions.parquet`;
  await put(key, await parquet([["u1", 2.5], ["u2", 4], ["u1", 1]]));
  const defs = definitions(`s3://${DATA}/${key}`);
  await defs.build();
  expect(await values(defs)).toEqual([
    { user_id: "u1", total_spend: 3.5 },
    { user_id: "u2", total_spend: 4 },
  ]);
});

test("a glob takes the objects its pattern matches, and * stays within one folder", async () => {
  const base = folder();
  await put(`${base}/2025-01.parquet`, await parquet([["u1", 1], ["u2", 2]]));
  await put(`${base}/2025-02.parquet`, await parquet([["u1", 10]]));
  await put(`${base}/2025-03.parquet`, await parquet([["u3", 100]]));
  await put(`${base}/2024-12.parquet`, await parquet([["u1", 1000]]));
  await put(`${base}/2025-04/late.parquet`, await parquet([["u1", 10000]]));
  await put(`${base}/2025-05.csv`, "user_id,amount\nu1,100000\n");
  const defs = definitions(`s3://${DATA}/${base}/2025-*.parquet`);
  await defs.build();
  expect(await values(defs)).toEqual([
    { user_id: "u1", total_spend: 11 },
    { user_id: "u2", total_spend: 2 },
    { user_id: "u3", total_spend: 100 },
  ]);
  expect((await defs.metadata("user_total_spend"))?.sourceFiles.map((file) => file.path)).toEqual(
    ["2025-01", "2025-02", "2025-03"].map((month) => `s3://${DATA}/${base}/${month}.parquet`),
  );
  // The listing starts at the pattern's literal prefix.
  expect(gateway.requests.filter((request) => request.operation === "ListObjectsV2").map((request) => request.prefix)).toEqual([`${base}/2025-`]);

  const recursive = await sources().list(`s3://${DATA}/${base}/**/*.parquet`);
  expect(recursive.map((object) => object.uri.slice(`s3://${DATA}/${base}/`.length))).toEqual([
    "2024-12.parquet",
    "2025-01.parquet",
    "2025-02.parquet",
    "2025-03.parquet",
    "2025-04/late.parquet",
  ]);
});

test("a prefix takes every object under it, but not folder markers and hidden files such as _SUCCESS", async () => {
  const base = folder();
  const etag = await put(`${base}/part-0.parquet`, await parquet([["u1", 1]]));
  await put(`${base}/nested/part-1.parquet`, await parquet([["u2", 2]]));
  await put(`${base}/_SUCCESS`, "");
  await put(`${base}/.part-0.parquet.crc`, "crc");
  await put(`${base}/empty-folder/`, "");
  const listed = await sources().list(`s3://${DATA}/${base}/`);
  expect(listed.map((object) => object.uri)).toEqual([`s3://${DATA}/${base}/nested/part-1.parquet`, `s3://${DATA}/${base}/part-0.parquet`]);
  expect(listed[1]?.version).toBe(etag);
});

test("an unchanged source is skipped without any GetObject; a new ETag rebuilds", async () => {
  const base = folder();
  await put(`${base}/a.csv`, "user_id,amount\nu1,1\n");
  await put(`${base}/b.csv`, "user_id,amount\nu2,2\n");
  const source = `s3://${DATA}/${base}/*.csv`;
  const prefix = `features-${randomUUID()}`;
  await definitions(source, sources(), prefix).build();
  expect(downloads()).toHaveLength(2);

  gateway.clear();
  const again = await definitions(source, sources(), prefix).build();
  expect(again.skipped.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(downloads()).toEqual([]);
  expect(gateway.operations()).toEqual(["ListObjectsV2"]);

  await put(`${base}/b.csv`, "user_id,amount\nu2,20\n");
  gateway.clear();
  const changed = definitions(source, sources(), prefix);
  const result = await changed.build();
  expect(result.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(downloads()).toHaveLength(2);
  expect(await values(changed)).toEqual([
    { user_id: "u1", total_spend: 1 },
    { user_id: "u2", total_spend: 20 },
  ]);
});

test("a missing object, an empty glob and a missing bucket are SourceNotFoundErrors naming the source", async () => {
  const missing = `s3://${DATA}/${folder()}/transactions.csv`;
  const error = await failure(definitions(missing).build());
  expect(error).toBeInstanceOf(SourceNotFoundError);
  expect((error as SourceNotFoundError).source).toBe(missing);
  expect(error.message).toContain(`Source '${missing}' of feature 'user_total_spend' matched no object.`);

  const empty = `s3://${DATA}/${folder()}/2025-*.csv`;
  expect((await failure(definitions(empty).build())).message).toContain(`Source '${empty}' of feature 'user_total_spend' matched no object.`);

  const noBucket = "s3://no-such-bucket/data/*.csv";
  const bucketError = await failure(definitions(noBucket).build());
  expect(bucketError).toBeInstanceOf(SourceNotFoundError);
  expect(bucketError.message).toContain(`Source '${noBucket}': Bucket 'no-such-bucket' does not exist or is not accessible.`);
  expect(bucketError.message).toContain("(NoSuchBucket). Create it (for example: aws s3 mb s3://no-such-bucket) or correct the bucket in the source URI.");
  expect(downloads()).toEqual([]);
});

test("without s3:GetObject the error names the action and the key", async () => {
  const key = `${folder()}/transactions.csv`;
  await put(key, "user_id,amount\nu1,1\n");
  gateway.policy = { Statement: [{ Effect: "Allow", Action: "s3:ListBucket", Resource: `arn:aws:s3:::${DATA}` }] };
  const expected =
    `Access denied: these credentials may not perform s3:GetObject on 's3://${DATA}/${key}'. ` +
    `Allow s3:GetObject on arn:aws:s3:::${DATA}/${key} in their IAM policy`;

  // One object: its HEAD is denied, and a listing shows it exists.
  const single = await failure(definitions(`s3://${DATA}/${key}`).build());
  expect(single).toBeInstanceOf(StoreAccessError);
  expect(single.message).toContain(expected);

  // A glob: the listing is allowed, the download is not.
  const glob = await failure(definitions(`s3://${DATA}/${key.replace("transactions", "trans*")}`).build());
  expect(glob).toBeInstanceOf(StoreAccessError);
  expect(glob.message).toContain(expected);
  expect(gateway.requests.filter((request) => !request.allowed).map((request) => request.operation)).toEqual(["HeadObject", "GetObject"]);
  expect((await readdir(temporary)).filter((entry) => entry.startsWith("mlforge-"))).toEqual([]);
});

test("without a sources option, core loads s3Sources() itself, configured by the standard AWS variables", async () => {
  const key = `${folder()}/transactions.csv`;
  await put(key, "user_id,amount\nu1,3\nu1,4\n");
  const names = ["AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION"] as const;
  const saved = names.map((name) => process.env[name]);
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_S3: gateway.endpoint,
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: "us-east-1",
  });
  try {
    const defs = definitions(`s3://${DATA}/${key}`, undefined);
    await defs.build();
    expect(await values(defs)).toEqual([{ user_id: "u1", total_spend: 7 }]);
    expect(downloads()).toEqual([`arn:aws:s3:::${DATA}/${key}`]);
  } finally {
    names.forEach((name, index) => {
      if (saved[index] === undefined) delete process.env[name];
      else process.env[name] = saved[index];
    });
  }
});

test("s3Sources() refuses unknown options and a client given with client options", () => {
  expect(() => s3Sources({ regoin: "us-east-1" } as never)).toThrow("s3Sources() has unknown option 'regoin'. Known options: region, endpoint, forcePathStyle, credentials, client.");
  expect(() => s3Sources({ client: s3.client, region: "us-east-1" })).toThrow(FeatureDefinitionError);
});
