import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { S3Store } from "@mlforge/store-s3";

type DefinitionsModule = typeof import("../src/definitions");

const environmentNames = ["FEATURE_STORE", "ENVIRONMENT", "MLFORGE_BUCKET", "S3_ENDPOINT"] as const;
const savedEnvironment = Object.fromEntries(environmentNames.map((name) => [name, process.env[name]]));
let workdir: string;
let getStore: DefinitionsModule["getStore"];
let defs: DefinitionsModule["defs"];

beforeAll(async () => {
  workdir = await mkdtemp(path.join(tmpdir(), "mlforge-example-definitions-"));
  // definitions.ts builds `defs` for ENVIRONMENT when first imported.
  process.env.ENVIRONMENT = "local";
  ({ getStore, defs } = await import("../src/definitions"));
});

beforeEach(() => {
  delete process.env.MLFORGE_BUCKET;
  delete process.env.S3_ENDPOINT;
});

afterAll(async () => {
  for (const name of environmentNames) {
    if (savedEnvironment[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnvironment[name];
  }
  await rm(workdir, { recursive: true, force: true });
});

/** An S3 environment's store, after checking it is an S3Store. */
function s3Store(environment: string): S3Store {
  const store = getStore(environment);
  expect(store).toBeInstanceOf(S3Store);
  return store as S3Store;
}

test("ENVIRONMENT picks the store, local by default", () => {
  process.env.FEATURE_STORE = workdir;
  delete process.env.ENVIRONMENT;
  expect(getStore()).toBeInstanceOf(LocalStore);
  expect((getStore() as LocalStore).location).toBe(workdir);
  process.env.ENVIRONMENT = "prod";
  expect(getStore().location).toBe("s3://mlforge-features-prod/features");
});

test("local uses ./feature_store, or the FEATURE_STORE directory", () => {
  delete process.env.FEATURE_STORE;
  const standard = getStore("local");
  expect(standard).toBeInstanceOf(LocalStore);
  expect((standard as LocalStore).location).toBe(path.resolve("feature_store"));

  process.env.FEATURE_STORE = workdir;
  expect((getStore("local") as LocalStore).location).toBe(workdir);
});

test.each([
  ["dev", "mlforge-features", "dev/features"],
  ["staging", "mlforge-features", "staging/features"],
  ["prod", "mlforge-features-prod", "features"],
])("%s is an S3Store on bucket %s, prefix %s", (environment, bucket, prefix) => {
  const store = s3Store(environment);
  expect(store.bucket).toBe(bucket);
  expect(store.prefix).toBe(prefix);
  expect(store.location).toBe(`s3://${bucket}/${prefix}`);
});

test.each(["dev", "staging", "prod"])("MLFORGE_BUCKET replaces the bucket of %s, keeping its prefix", (environment) => {
  process.env.MLFORGE_BUCKET = "acme-features";
  const store = s3Store(environment);
  expect(store.bucket).toBe("acme-features");
  expect(store.prefix).toBe(environment === "prod" ? "features" : `${environment}/features`);
});

test("S3_ENDPOINT points the S3 stores at an S3-compatible server, path-style; without it they use Amazon S3", async () => {
  process.env.S3_ENDPOINT = "http://127.0.0.1:9000";
  const custom = s3Store("dev");
  const endpoint = await custom.client.config.endpoint?.();
  expect(endpoint).toMatchObject({ protocol: "http:", hostname: "127.0.0.1", port: 9000 });
  expect(custom.client.config.forcePathStyle).toBe(true);

  delete process.env.S3_ENDPOINT;
  const amazon = s3Store("staging");
  expect(amazon.client.config.endpoint).toBeUndefined();
  expect(amazon.client.config.forcePathStyle).toBe(false);
  custom.client.destroy();
  amazon.client.destroy();
});

test("an unknown environment names the valid ones", () => {
  expect(() => getStore("qa")).toThrow("Unknown ENVIRONMENT 'qa'. Use one of: local, dev, staging, prod.");
});

test("defs is the 'user-features' project with every feature", () => {
  expect(Definitions.isInstance(defs)).toBe(true);
  expect(defs.name).toBe("user-features");
  expect(defs.features.map((item) => item.name).sort()).toEqual(["product_popularity", "user_avg_spend", "user_spend", "user_total_spend"]);
  expect(defs.features.find((item) => item.name === "user_spend")?.timestamp).toBe("as_of");
});
