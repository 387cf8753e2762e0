// Starting build children (build-child.ts) and reading what they left, for the crash and concurrency tests.
import path from "node:path";
import { literal, query } from "@mlforge/test-support";
import { startChild, type RunningChild } from "@mlforge/test-support/processes";
import type { BuildChildConfig, FeatureVersion } from "./versioned-features";

// The child beside this module: built JavaScript in `dist` (build-child.js or .cjs, as this module
// is), or, when this module runs from source (under Jest), build-child.ts.
const CHILD = path.join(__dirname, `build-child${path.extname(__filename)}`);

/** Starts a build child: `node build-child.js <config>`; it prints "ready" once loaded. */
export function startBuild(config: BuildChildConfig, environment: NodeJS.ProcessEnv = process.env): RunningChild {
  return startChild(CHILD, [JSON.stringify(config)], environment);
}

/** What a feature's data file holds, read by the test's own DuckDB: rows, its one version, and the build id and fingerprint in its footer. */
export interface DataFacts {
  rows: number;
  version: FeatureVersion;
  buildId: string;
  fingerprint: string;
}

/** Reads a data file; fails when it is not whole Parquet, holds two versions, or has no mlforge footer. */
export async function dataFacts(file: string): Promise<DataFacts> {
  const [facts] = await query(
    `SELECT count(*)::INTEGER AS n, min(version)::INTEGER AS low, max(version)::INTEGER AS high, ` +
      `(SELECT decode(value) FROM parquet_kv_metadata(${literal(file)}) WHERE decode(key) = 'mlforge') AS document FROM read_parquet(${literal(file)})`,
  );
  if (facts?.low !== facts?.high) throw new Error(`${file} mixes versions ${String(facts?.low)} and ${String(facts?.high)}.`);
  const document = JSON.parse(String(facts?.document)) as { buildId: string; fingerprint: string };
  return { rows: Number(facts?.n), version: Number(facts?.low) as FeatureVersion, buildId: document.buildId, fingerprint: document.fingerprint };
}
