import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalStore } from "@mlforge/store-local";
import { Definitions } from "@mlforge/core";

type DefinitionsModule = typeof import("../src/definitions");

const environmentNames = ["FEATURE_STORE", "ENVIRONMENT"] as const;
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

afterAll(async () => {
  for (const name of environmentNames) {
    if (savedEnvironment[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnvironment[name];
  }
  await rm(workdir, { recursive: true, force: true });
});

test("ENVIRONMENT picks the store, local by default", () => {
  process.env.FEATURE_STORE = workdir;
  delete process.env.ENVIRONMENT;
  expect((getStore() as LocalStore).location).toBe(workdir);
  process.env.ENVIRONMENT = "prod";
  expect(() => getStore()).toThrow("ENVIRONMENT 'prod' stores features in S3");
});

test("local uses ./feature_store, or the FEATURE_STORE directory", () => {
  delete process.env.FEATURE_STORE;
  const standard = getStore("local");
  expect(standard).toBeInstanceOf(LocalStore);
  expect((standard as LocalStore).location).toBe(path.resolve("feature_store"));

  process.env.FEATURE_STORE = workdir;
  expect((getStore("local") as LocalStore).location).toBe(workdir);
});

test.each(["dev", "staging", "prod"])("%s says S3Store is not available yet", (environment) => {
  expect(() => getStore(environment)).toThrow(
    `ENVIRONMENT '${environment}' stores features in S3, but S3Store is not available in this example yet (it arrives with @mlforge/store-s3). Use ENVIRONMENT=local for now.`,
  );
});

test("an unknown environment names the valid ones", () => {
  expect(() => getStore("qa")).toThrow("Unknown ENVIRONMENT 'qa'. Use one of: local, dev, staging, prod.");
});

test("defs is the 'user-features' project with every feature", () => {
  expect(Definitions.isInstance(defs)).toBe(true);
  expect(defs.name).toBe("user-features");
  expect(defs.features.map((item) => item.name).sort()).toEqual(["product_popularity", "user_avg_spend", "user_spend_7d", "user_total_spend"]);
  expect(defs.features.find((item) => item.name === "user_spend_7d")?.timestamp).toBe("as_of");
});
