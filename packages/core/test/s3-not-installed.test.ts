import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { BuildError, Definitions, feature, SourceNotFoundError } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

// What Node's resolver throws when a package is not installed.
jest.mock("@mlforge/store-s3", () => {
  throw Object.assign(new Error("Cannot find module '@mlforge/store-s3' from 'packages/core/src/source-provider.ts'"), { code: "MODULE_NOT_FOUND" });
});

let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), "mlforge-s3-missing-test-"));
});

afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

test("an s3:// source without @mlforge/store-s3 installed says to install it", async () => {
  const defs = new Definitions({
    name: "test",
    features: [feature({ name: "user_total_spend", keys: ["user_id"], source: "s3://mlforge-data/transactions.parquet" }, (source) => `SELECT * FROM ${source}`)],
    offlineStore: new LocalStore(path.join(directory, "store")),
  });
  const error = await defs.build().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(BuildError);
  const failure = (error as BuildError).result.failed[0]?.error;
  expect(failure).toBeInstanceOf(SourceNotFoundError);
  expect(failure?.message).toBe(
    "Feature 'user_total_spend' reads 's3://mlforge-data/transactions.parquet', but s3:// sources need @mlforge/store-s3. " +
      "Install it (npm install @mlforge/store-s3) and build again, or pass a provider in new Definitions({ sources: [...] }).",
  );
});
