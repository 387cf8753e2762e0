import { randomUUID } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { Definitions } from "@mlforge/core";
import { S3Store } from "@mlforge/store-s3";
import { useIamFixture } from "./support/iam-fixture";
import { FULL, READ_ONLY } from "./support/policies";
import { userTotalSpend } from "./support/fixtures";

const BUCKET = "mlforge-features";

jest.setTimeout(30_000);

const fixture = useIamFixture(BUCKET);
const { store } = fixture;

/** Builds user_total_spend (the build keeps its version under `_versions/`); returns its build id. */
async function buildVersion(made: S3Store): Promise<string> {
  await using defs = new Definitions({ name: "diff", features: [userTotalSpend(fixture.transactions)], offlineStore: made });
  await defs.build({ force: true });
  return (await defs.metadata("user_total_spend"))!.buildId;
}

test("read-only policy: diff of two builds works with s3:GetObject and s3:ListBucket alone", async () => {
  const prefix = `team-${randomUUID()}/features`;
  fixture.gateway.policy = FULL;
  // u1 15.5, u2 7; then u1 17.5 (changed), u3 4 (added), u2 gone (removed).
  const a = await buildVersion(store(prefix));
  await writeFile(fixture.transactions, "user_id,amount\nu1,10.5\nu1,5\nu1,2\nu3,4\n");
  const b = await buildVersion(store(prefix));
  expect(await fixture.s3.keys(BUCKET, `${prefix}/_versions/`)).toEqual(
    [a, b].flatMap((id) => [`${prefix}/_versions/user_total_spend/${id}.json`, `${prefix}/_versions/user_total_spend/${id}.parquet`]),
  );

  fixture.gateway.policy = READ_ONLY;
  fixture.gateway.clear();
  await using defs = new Definitions({ name: "diff", features: [userTotalSpend(fixture.transactions)], offlineStore: store(prefix) });
  const diff = await defs.diff("user_total_spend");
  expect([diff.from.buildId, diff.to.buildId]).toEqual([a, b]);
  expect(diff.columns).toEqual({ added: [], removed: [], retyped: [] });
  expect(diff.rows).toEqual({ added: 1, removed: 1, changed: 1 });
  expect(diff.keyValues).toEqual({ added: 1, removed: 1 });
  // Means (15.5 + 7) / 2 = 11.25 and (17.5 + 4) / 2 = 10.75.
  expect(diff.numeric).toEqual([{ name: "total_spend", mean: { from: 11.25, to: 10.75, delta: -0.5 }, nullCount: { from: 0, to: 0, delta: 0 } }]);

  expect(fixture.gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  expect(fixture.gateway.requests.every((request) => request.allowed)).toBe(true);
});
