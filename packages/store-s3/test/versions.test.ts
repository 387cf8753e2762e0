// Kept versions on S3, through the IAM gateway: what each policy of storage-backends.md (and one
// without s3:DeleteObject) lets a build, retention, reading a version and a rollback do, and which
// requests they make.
import { randomUUID } from "node:crypto";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Definitions, feature, StoreAccessError, type DefinitionsOptions, type FeatureFrame } from "@mlforge/core";
import { useIamFixture } from "./support/iam-fixture";
import { FULL, NO_DELETE, READ_ONLY, WRITE_ONLY } from "./support/policies";

const BUCKET = "mlforge-features";

jest.setTimeout(30_000);

const fixture = useIamFixture(BUCKET);
const { store } = fixture;

beforeEach(() => {
  fixture.gateway.policy = FULL;
  fixture.gateway.clear();
});

/** `user_total_spend` times `factor` (so that versions hold different values), into a fresh store under `prefix`. */
function definitions(prefix: string, factor = 1, options: Partial<DefinitionsOptions> = {}): Definitions {
  const spend = feature({ name: "user_total_spend", keys: ["user_id"], source: fixture.transactions }, (source) => `SELECT user_id, sum(amount) * ${factor} AS total_spend FROM ${source} GROUP BY user_id ORDER BY user_id`);
  return new Definitions({ name: "versions", features: [spend], offlineStore: store(prefix), ...options });
}

const newPrefix = () => `versions-${randomUUID()}`;

function rowsFor(factor: number): Record<string, unknown>[] {
  return [
    { user_id: "u1", total_spend: 15.5 * factor },
    { user_id: "u2", total_spend: 7 * factor },
  ];
}

async function rowsOf(frame: Promise<FeatureFrame>): Promise<Record<string, unknown>[]> {
  await using opened = await frame;
  return opened.rows();
}

/** Every key under `prefix`, relative to it. */
async function keysUnder(prefix: string): Promise<string[]> {
  return (await fixture.s3.keys(BUCKET, `${prefix}/`)).map((key) => key.slice(prefix.length + 1));
}

async function currentBuildId(prefix: string): Promise<string> {
  const response = await fixture.s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}/_metadata/user_total_spend.json` }));
  return (JSON.parse(await response.Body!.transformToString()) as { buildId: string }).buildId;
}

/** The requests that sent a feature's bytes: uploads of .parquet keys, whole or in parts. */
function dataUploads(): string[] {
  const uploads = ["PutObject", "CreateMultipartUpload", "UploadPart"];
  return fixture.gateway.requests.filter((request) => uploads.includes(request.operation) && request.resource.endsWith(".parquet")).map((request) => request.resource);
}

test("full policy: a build uploads its data once, as the kept version, and the current data is a server-side copy of it", async () => {
  const prefix = newPrefix();
  await using defs = definitions(prefix);
  await defs.build();
  fixture.gateway.clear();
  await using changed = definitions(prefix, 2);
  await changed.build();
  const buildId = await currentBuildId(prefix);
  const version = `arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${buildId}.parquet`;

  expect(dataUploads()).toEqual([version]);
  expect(fixture.gateway.requests.filter((request) => request.operation === "CopyObject").map((request) => [request.copySource, request.resource, request.status])).toEqual([
    [version, `arn:aws:s3:::${BUCKET}/${prefix}/user_total_spend.parquet`, 200],
  ]);
  expect(fixture.gateway.requests.filter((request) => request.operation === "GetObject" && request.resource.endsWith(".parquet"))).toEqual([]);
  expect((await keysUnder(prefix)).filter((key) => key.startsWith("_versions/"))).toHaveLength(4);
  expect(await rowsOf(changed.read("user_total_spend"))).toEqual(rowsFor(2));
  expect(fixture.gateway.requests.every((request) => request.allowed)).toBe(true);
});

test("write-only policy: the copy is refused, so the build uploads its data a second time, and still keeps its version", async () => {
  const prefix = newPrefix();
  fixture.gateway.policy = WRITE_ONLY;
  await using defs = definitions(prefix);
  const result = await defs.build();
  expect(result.built.map((entry) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  const buildId = await currentBuildId(prefix);
  expect(dataUploads()).toEqual([
    `arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${buildId}.parquet`,
    `arn:aws:s3:::${BUCKET}/${prefix}/user_total_spend.parquet`,
  ]);
  expect(await keysUnder(prefix)).toEqual([
    "_metadata/user_total_spend.json",
    `_versions/user_total_spend/${buildId}.json`,
    `_versions/user_total_spend/${buildId}.parquet`,
    "user_total_spend.parquet",
  ]);

  // What the write-only build kept is readable by a reader.
  fixture.gateway.policy = READ_ONLY;
  await using reader = definitions(prefix);
  expect((await reader.versions("user_total_spend")).map((version) => [version.buildId, version.current])).toEqual([[buildId, true]]);
  expect(await rowsOf(reader.read("user_total_spend", { version: buildId }))).toEqual(rowsFor(1));
});

test.each([
  ["without s3:DeleteObject", NO_DELETE],
  ["write-only", WRITE_ONLY],
])("%s: the build succeeds and says that old versions were kept; with s3:DeleteObject the next build removes them", async (_name, policy) => {
  const prefix = newPrefix();
  fixture.gateway.policy = policy;
  await using first = definitions(prefix, 1, { keepVersions: 1 });
  expect((await first.build()).built[0]!.note).toBeUndefined();
  await using second = definitions(prefix, 2, { keepVersions: 1 });
  const result = await second.build();
  expect(result.built.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  const note = result.built[0]!.note!;
  expect(note).toMatch(/^Kept 1 old version beyond keepVersions \(1\): removing it failed\. Access denied: these credentials may not perform s3:DeleteObject on 's3:\/\/mlforge-features\/versions-[^']+\.json'\./);
  expect(fixture.gateway.requests.filter((request) => request.operation === "DeleteObject").map((request) => request.allowed)).toEqual([false]);
  expect((await keysUnder(prefix)).filter((key) => key.startsWith("_versions/"))).toHaveLength(4);

  fixture.gateway.policy = FULL;
  await using third = definitions(prefix, 3, { keepVersions: 1 });
  expect((await third.build()).built[0]!.note).toBeUndefined();
  const buildId = await currentBuildId(prefix);
  expect((await keysUnder(prefix)).filter((key) => key.startsWith("_versions/"))).toEqual([`_versions/user_total_spend/${buildId}.json`, `_versions/user_total_spend/${buildId}.parquet`]);
});

test("read-only policy: versions() and read({ version }) work; a rollback is refused, naming both actions a copy needs", async () => {
  const prefix = newPrefix();
  await using first = definitions(prefix);
  await first.build();
  await using second = definitions(prefix, 2);
  await second.build();
  fixture.gateway.policy = READ_ONLY;
  fixture.gateway.clear();

  await using reader = definitions(prefix, 2);
  const versions = await reader.versions("user_total_spend");
  expect(versions.map((version) => version.current)).toEqual([true, false]);
  expect(await rowsOf(reader.read("user_total_spend", { version: versions[1]!.buildId }))).toEqual(rowsFor(1));
  expect(await rowsOf(reader.read("user_total_spend", { version: versions[0]!.buildId }))).toEqual(rowsFor(2));
  expect(fixture.gateway.requests.every((request) => request.allowed)).toBe(true);

  const error = await reader.rollback("user_total_spend", { to: "previous" }).catch((caught: unknown) => caught);
  expect(StoreAccessError.isInstance(error) && error.reason).toBe("access-denied");
  expect((error as Error).message).toBe(
    `Access denied: these credentials may not perform s3:PutObject on 's3://${BUCKET}/${prefix}/user_total_spend.parquet'. ` +
      `Allow s3:PutObject on arn:aws:s3:::${BUCKET}/${prefix}/user_total_spend.parquet in their IAM policy (see the IAM policies in the @mlforge/store-s3 README). ` +
      `A copy also reads its source: allow s3:GetObject on arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${versions[1]!.buildId}.parquet as well.`,
  );
  expect(await currentBuildId(prefix)).toBe(versions[0]!.buildId);
});

test("a rollback copies the kept version server-side and rewrites the metadata; a fresh machine with that definition then skips without downloading", async () => {
  const prefix = newPrefix();
  await using first = definitions(prefix);
  await first.build();
  const original = await currentBuildId(prefix);
  await using second = definitions(prefix, 2);
  await second.build();
  fixture.gateway.clear();

  await second.rollback("user_total_spend", { to: original });
  expect(dataUploads()).toEqual([]);
  expect(fixture.gateway.requests.filter((request) => request.operation === "CopyObject").map((request) => request.copySource)).toEqual([
    `arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${original}.parquet`,
  ]);
  expect(await currentBuildId(prefix)).toBe(original);

  fixture.gateway.clear();
  await using fresh = definitions(prefix);
  expect((await fresh.build()).skipped.map((entry) => entry.name)).toEqual(["user_total_spend"]);
  expect(fixture.gateway.requests.filter((request) => request.operation === "GetObject").map((request) => request.resource)).toEqual([
    `arn:aws:s3:::${BUCKET}/${prefix}/_metadata/user_total_spend.json`,
  ]);
  expect(await rowsOf(fresh.read("user_total_spend"))).toEqual(rowsFor(1));
});

test("the first build with versions keeps the current data built without them, copied server-side, so it can be rolled back to", async () => {
  const prefix = newPrefix();
  await using unversioned = definitions(prefix, 1, { keepVersions: 0 });
  await unversioned.build();
  const original = await currentBuildId(prefix);
  expect((await keysUnder(prefix)).filter((key) => key.startsWith("_versions/"))).toEqual([]);
  fixture.gateway.clear();

  await using versioned = definitions(prefix, 2);
  await versioned.build();
  expect(fixture.gateway.requests.filter((request) => request.operation === "CopyObject").map((request) => [request.copySource, request.resource])).toEqual([
    [`arn:aws:s3:::${BUCKET}/${prefix}/user_total_spend.parquet`, `arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${original}.parquet`],
    [`arn:aws:s3:::${BUCKET}/${prefix}/_versions/user_total_spend/${await currentBuildId(prefix)}.parquet`, `arn:aws:s3:::${BUCKET}/${prefix}/user_total_spend.parquet`],
  ]);
  expect((await versioned.versions("user_total_spend")).map((version) => version.buildId)).toEqual([await currentBuildId(prefix), original]);
  await versioned.rollback("user_total_spend", { to: original });
  expect(await rowsOf(versioned.read("user_total_spend"))).toEqual(rowsFor(1));
});
