import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Definitions } from "@mlforge/core";
import { S3Store } from "@mlforge/store-s3";
import { IamGateway } from "./support/iam-gateway";
import { FULL, READ_ONLY } from "./support/policies";
import { userTotalSpend, writeTransactions } from "./support/fixtures";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-features";

jest.setTimeout(30_000);

let s3: TestS3Server;
let gateway: IamGateway;
let transactions: string;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET]);
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  transactions = await writeTransactions(s3.directory);
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  await removeStagedFiles();
});

/** A fresh store (its own cache, so every read really downloads) through the gateway. */
function store(prefix: string): S3Store {
  return new S3Store({ bucket: BUCKET, prefix, endpoint: gateway.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(s3.directory, `cache-${randomUUID()}`) });
}

/** Builds user_total_spend (the build keeps its version under `_versions/`); returns its build id. */
async function buildVersion(made: S3Store): Promise<string> {
  await using defs = new Definitions({ name: "diff", features: [userTotalSpend(transactions)], offlineStore: made });
  await defs.build({ force: true });
  return (await defs.metadata("user_total_spend"))!.buildId;
}

test("read-only policy: diff of two builds works with s3:GetObject and s3:ListBucket alone", async () => {
  const prefix = `team-${randomUUID()}/features`;
  gateway.policy = FULL;
  // u1 15.5, u2 7; then u1 17.5 (changed), u3 4 (added), u2 gone (removed).
  const a = await buildVersion(store(prefix));
  await writeFile(transactions, "user_id,amount\nu1,10.5\nu1,5\nu1,2\nu3,4\n");
  const b = await buildVersion(store(prefix));
  expect(await s3.keys(BUCKET, `${prefix}/_versions/`)).toEqual(
    [a, b].flatMap((id) => [`${prefix}/_versions/user_total_spend/${id}.json`, `${prefix}/_versions/user_total_spend/${id}.parquet`]),
  );

  gateway.policy = READ_ONLY;
  gateway.clear();
  await using defs = new Definitions({ name: "diff", features: [userTotalSpend(transactions)], offlineStore: store(prefix) });
  const diff = await defs.diff("user_total_spend");
  expect([diff.from.buildId, diff.to.buildId]).toEqual([a, b]);
  expect(diff.columns).toEqual({ added: [], removed: [], retyped: [] });
  expect(diff.rows).toEqual({ added: 1, removed: 1, changed: 1 });
  expect(diff.keyValues).toEqual({ added: 1, removed: 1 });
  // Means (15.5 + 7) / 2 = 11.25 and (17.5 + 4) / 2 = 10.75.
  expect(diff.numeric).toEqual([{ name: "total_spend", mean: { from: 11.25, to: 10.75, delta: -0.5 }, nullCount: { from: 0, to: 0, delta: 0 } }]);

  expect(gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  expect(gateway.requests.every((request) => request.allowed)).toBe(true);
});
