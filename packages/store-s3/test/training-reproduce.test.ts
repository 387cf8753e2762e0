// Pinned reads and reproduced training sets on S3, under storage-backends.md's read-only policy.
import { randomUUID } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Definitions, type FeatureFrame } from "@mlforge/core";
import { useIamFixture } from "./support/iam-fixture";
import { READ_ONLY } from "./support/policies";
import { userTotalSpend } from "./support/fixtures";

const BUCKET = "mlforge-features";

jest.setTimeout(60_000);

const fixture = useIamFixture(BUCKET);
const { store } = fixture;

/** Definitions over a fresh store (its own cache, so every read really downloads) through the gateway. */
function definitions(prefix: string): Definitions {
  return new Definitions({ name: "reproduce", features: [userTotalSpend(fixture.transactions)], offlineStore: store(prefix) });
}

async function rowsOf(frame: FeatureFrame): Promise<Record<string, unknown>[]> {
  try {
    return await frame.rows();
  } finally {
    await frame.close();
  }
}

const entities = [{ user_id: "u2" }, { user_id: "u1" }, { user_id: "u3" }];

test("read-only policy: a pinned read, pinned training data and a reproduction after a rebuild use s3:GetObject and s3:ListBucket alone", async () => {
  const prefix = `team-${randomUUID()}/features`;
  const writer = definitions(prefix);
  // Every build keeps its version (keepVersions' default, 10), under _versions/ on the bucket.
  await writer.build();
  const { buildId: first } = (await writer.metadata("user_total_spend"))!;
  const train = path.join(fixture.s3.directory, `train-${randomUUID()}.parquet`);
  const frame = await writer.getTrainingData({ features: ["user_total_spend"], entities });
  try {
    await frame.writeParquet(train);
  } finally {
    await frame.close();
  }
  await writeFile(fixture.transactions, "user_id,amount\nu1,10.5\nu2,8\nu1,5\nu3,1\n");
  await writer.build();
  await writer.close();

  fixture.gateway.policy = READ_ONLY;
  fixture.gateway.clear();
  const reader = definitions(prefix);
  try {
    expect(await rowsOf(await reader.read("user_total_spend", { version: first }))).toEqual([
      { user_id: "u1", total_spend: 15.5 },
      { user_id: "u2", total_spend: 7 },
    ]);
    expect(await rowsOf(await reader.getTrainingData({ features: [{ name: "user_total_spend", version: first }], entities }))).toEqual([
      { user_id: "u2", total_spend: 7 },
      { user_id: "u1", total_spend: 15.5 },
      { user_id: "u3", total_spend: null },
    ]);
    // The current build answers otherwise, so the reproduction below cannot be the current data.
    expect((await rowsOf(await reader.getTrainingData({ features: ["user_total_spend"], entities }))).map((row) => row.total_spend)).toEqual([8, 15.5, 1]);

    const again = path.join(fixture.s3.directory, `again-${randomUUID()}.parquet`);
    const reproduced = await reader.getTrainingData({ reproduce: train, entities });
    try {
      expect(reproduced.manifest?.features.map(({ buildId }) => buildId)).toEqual([first]);
      await reproduced.writeParquet(again);
    } finally {
      await reproduced.close();
    }
    expect((await readFile(again)).equals(await readFile(train))).toBe(true);
  } finally {
    await reader.close();
  }
  expect(fixture.gateway.allowedActions()).toEqual(["s3:GetObject", "s3:ListBucket"]);
  expect(fixture.gateway.requests.filter((request) => !request.allowed)).toEqual([]);
  // The pinned build came from its kept copy, not from the current data.
  expect(fixture.gateway.requests.some((request) => request.operation === "GetObject" && request.resource.endsWith(`/_versions/user_total_spend/${first}.parquet`))).toBe(true);
});
