import { createReadStream } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Definitions, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { S3Store } from "@mlforge/store-s3";
import { S3RVER_CREDENTIALS } from "@mlforge/s3-test-server";
import { rawSql, rollingCases } from "./rolling-cases";
import { onlineCases, type OnlineCaseOptions } from "./online";
import { serverCases } from "./server-load";
import { planOf, skewedCases } from "./skewed-cases";

/** Options every case receives from the runner. */
export interface CaseOptions {
  /** The transactions Parquet file. */
  data: string;
  /** A fresh directory the case may write into. */
  out: string;
  /** A LocalStore directory holding the example's features built from `data` (training cases). */
  store?: string;
  /** A Parquet file of entity rows: user_id, event_time (training cases). */
  entities?: string;
  /** The S3-compatible server's endpoint and a fresh prefix in its bucket (S3 cases). */
  s3?: { endpoint: string; bucket: string; prefix: string };
}

/** Part size and parallel parts of every upload, mlforge's defaults, on both sides. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/**
 * The example app's features, reading `data`. They take their source from MLFORGE_EXAMPLE_DATA
 * when first imported, so a process serves one dataset: every case runs in a fresh one.
 */
async function exampleFeatures(data: string): Promise<Feature[]> {
  process.env.MLFORGE_EXAMPLE_DATA = data;
  const module = await import("@mlforge/example/features");
  return Object.values(module).filter((value): value is Feature => typeof value === "object" && value !== null && "transform" in value);
}

/** Raw DuckDB: for each feature, the same SQL over the same view, `COPY … TO … (FORMAT parquet)`. */
async function buildRaw({ data, out }: CaseOptions): Promise<void> {
  const features = await exampleFeatures(data);
  await mkdir(out, { recursive: true });
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    for (const feature of features) {
      const relation = `"${feature.name}_source"`;
      await connection.run(`CREATE OR REPLACE TEMP VIEW ${relation} AS SELECT * FROM read_parquet('${data}')`);
      const sql = await rawSql(feature, relation);
      await connection.run(`COPY (${sql}) TO '${path.join(out, `${feature.name}.parquet`)}' (FORMAT parquet)`);
    }
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** mlforge: `Definitions.build({ force: true })` of the same features into a LocalStore. */
async function buildMlforge({ data, out }: CaseOptions): Promise<void> {
  const features = await exampleFeatures(data);
  const defs = new Definitions({ name: "bench", features, offlineStore: new LocalStore(out) });
  await defs.build({ force: true });
}

/** Raw DuckDB plus a raw `@aws-sdk/lib-storage` upload of each file, one after the other. */
async function s3Raw(options: CaseOptions): Promise<void> {
  await buildRaw(options);
  const { endpoint, bucket, prefix } = options.s3!;
  const client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: S3RVER_CREDENTIALS, requestChecksumCalculation: "WHEN_REQUIRED" });
  try {
    for (const file of await readdir(options.out)) {
      const params = { Bucket: bucket, Key: `${prefix}/${file}`, Body: createReadStream(path.join(options.out, file)) };
      await new Upload({ client, params, partSize: PART_SIZE, queueSize: QUEUE_SIZE }).done();
    }
  } finally {
    client.destroy();
  }
}

/** mlforge: `Definitions.build({ force: true })` into an S3Store on the same server. */
async function s3Mlforge({ data, s3 }: CaseOptions): Promise<void> {
  const { endpoint, bucket, prefix } = s3!;
  const store = new S3Store({ bucket, prefix, endpoint, credentials: S3RVER_CREDENTIALS, partSize: PART_SIZE, queueSize: QUEUE_SIZE });
  await new Definitions({ name: "bench", features: await exampleFeatures(data), offlineStore: store }).build({ force: true });
}

/** The training set's three features: two lifetime ones joined on keys, one as of the entity's time. */
export const TRAINING_FEATURES = ["user_total_spend", "user_avg_spend", "user_spend"];

const VALUES = "e.user_id, e.event_time, t.total_spend, t.transaction_count, a.avg_spend";

/** Runs one raw training-set query in a fresh DuckDB and writes it to out/train.parquet. */
async function rawTraining({ store, entities, out }: CaseOptions, body: (file: (name: string) => string) => string): Promise<void> {
  await mkdir(out, { recursive: true });
  const file = (name: string) => `read_parquet('${path.join(store!, `${name}.parquet`)}')`;
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    await connection.run(
      `COPY (WITH e AS (SELECT *, row_number() OVER () AS rn FROM read_parquet('${entities}')) ${body(file)}) TO '${path.join(out, "train.parquet")}' (FORMAT parquet)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Raw plan 1: ASOF LEFT JOIN for the time-stamped feature. */
function trainingAsof(options: CaseOptions): Promise<void> {
  return rawTraining(options, (file) => `
    SELECT ${VALUES}, s.* EXCLUDE (user_id, as_of)
    FROM e
    LEFT JOIN ${file("user_total_spend")} t ON e.user_id = t.user_id
    LEFT JOIN ${file("user_avg_spend")} a ON e.user_id = a.user_id
    ASOF LEFT JOIN ${file("user_spend")} s ON e.user_id = s.user_id AND e.event_time >= s.as_of
    ORDER BY e.rn`);
}

/** Raw plan 2 (Feast's DuckDB store): join every earlier feature row, keep the latest per entity row with row_number(). */
function trainingRank(options: CaseOptions): Promise<void> {
  return rawTraining(options, (file) => `
    , latest AS (
      SELECT e.rn, s.* EXCLUDE (user_id, as_of)
      FROM e JOIN ${file("user_spend")} s ON e.user_id = s.user_id AND s.as_of <= e.event_time
      QUALIFY row_number() OVER (PARTITION BY e.rn ORDER BY s.as_of DESC) = 1
    )
    SELECT ${VALUES}, latest.* EXCLUDE (rn)
    FROM e
    LEFT JOIN ${file("user_total_spend")} t ON e.user_id = t.user_id
    LEFT JOIN ${file("user_avg_spend")} a ON e.user_id = a.user_id
    LEFT JOIN latest ON e.rn = latest.rn
    ORDER BY e.rn`);
}

/** mlforge: `getTrainingData(...).writeParquet(...)` over the same store and entities. */
async function trainingMlforge({ data, store, entities, out }: CaseOptions): Promise<void> {
  const defs = new Definitions({ name: "bench", features: await exampleFeatures(data), offlineStore: new LocalStore(store!) });
  const frame = await defs.getTrainingData({ features: TRAINING_FEATURES, entities: entities!, timestamp: "event_time" });
  try {
    await frame.writeParquet(path.join(out, "train.parquet"));
  } finally {
    await frame.close();
  }
}

/** The plan `"auto"` picked for the time-stamped user_spend over these entity rows (not timed). */
async function trainingPlan({ data, store, entities }: CaseOptions): Promise<{ plan: string; pairs?: number }> {
  return planOf(new Definitions({ name: "bench", features: await exampleFeatures(data), offlineStore: new LocalStore(store!) }), TRAINING_FEATURES, "user_spend", entities!);
}

/** Every case the runner can measure, by name. */
export const cases = {
  "build-raw": buildRaw,
  "build-mlforge": buildMlforge,
  "s3-raw": s3Raw,
  "s3-mlforge": s3Mlforge,
  "training-asof": trainingAsof,
  "training-rank": trainingRank,
  "training-mlforge": trainingMlforge,
  "prepare-store": prepareStore,
  "training-plan": trainingPlan,
  ...rollingCases,
  ...skewedCases,
} satisfies Record<string, (options: CaseOptions) => Promise<unknown>>;

/**
 * Work a case needs done before its clock starts, on both sides alike: importing the example's
 * feature definitions (15-65 ms through tsx), which an application does once at start-up, not per
 * build or training call.
 */
export async function beforeCase(name: string, options: Partial<CaseOptions>): Promise<void> {
  if (/^(build|s3)-(raw|mlforge)$|^training-(mlforge|plan)$/.test(name) && options.data !== undefined) await exampleFeatures(options.data);
}

/** Every case, offline and online: a case may resolve with figures of its own (the read cases' latencies), which `measure` prints. */
export const allCases: Record<string, (options: never) => Promise<unknown>> = { ...cases, ...onlineCases, ...serverCases };
export type { OnlineCaseOptions };

/** Builds the example's features from `data` into a LocalStore at `store` (setup; run through `measure` so each size gets a fresh process). */
async function prepareStore({ data, store }: CaseOptions): Promise<void> {
  const defs = new Definitions({ name: "bench", features: await exampleFeatures(data), offlineStore: new LocalStore(store!) });
  await defs.build();
  // A store built by a version that recorded no keyStats would get the older plan rule: rebuild it once.
  const listings = await defs.list();
  if (listings.some((listing) => listing.feature.timestamp !== undefined && listing.metadata?.keyStats === undefined)) await defs.build({ force: true });
}

/** Writes `count` deterministic entity rows (user_id, event_time) over the users and days of `data`. */
export async function writeEntities(data: string, count: number, file: string): Promise<void> {
  const instance = await DuckDBInstance.create(":memory:");
  const connection = await instance.connect();
  try {
    await connection.run(`
      COPY (
        WITH users AS (SELECT list(DISTINCT user_id ORDER BY user_id) AS ids, min(event_time) AS first, max(event_time) AS last FROM read_parquet('${data}'))
        SELECT ids[(1 + hash(i, 'user') % len(ids))::BIGINT] AS user_id,
               first + to_seconds((hash(i, 'time') % (epoch(last) - epoch(first))::BIGINT)::BIGINT) AS event_time
        FROM range(${count}) AS r(i), users
      ) TO '${file}' (FORMAT parquet)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Removes what a case wrote. */
export async function clean(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
}
