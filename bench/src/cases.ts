import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Definitions, type Feature } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

/** Options every case receives from the runner. */
export interface CaseOptions {
  /** The transactions Parquet file. */
  data: string;
  /** A fresh directory the case may write into. */
  out: string;
}

/** The example app's features, reading `data` (they take their source from MLFORGE_EXAMPLE_DATA at import). */
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
      const sql = await feature.transform(relation);
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

/** Every case the runner can measure, by name. */
export const cases = {
  "build-raw": buildRaw,
  "build-mlforge": buildMlforge,
} satisfies Record<string, (options: CaseOptions) => Promise<void>>;

/** Removes what a case wrote. */
export async function clean(out: string): Promise<void> {
  await rm(out, { recursive: true, force: true });
}
