// Starting build children (build-child.ts), killing them, and reading what they left, for the crash and concurrency tests.
import { spawn } from "node:child_process";
import path from "node:path";
import { literal, query } from "./query";
import type { BuildChildConfig, FeatureVersion } from "./versioned-features";

// The child beside this module: built JavaScript in `dist` (build-child.js or .cjs, as this module
// is), or, when this module runs from source (under Jest), build-child.ts through the SWC loader.
const EXTENSION = path.extname(__filename);
const CHILD = path.join(__dirname, `build-child${EXTENSION}`);
const ARGUMENTS = EXTENSION === ".ts" ? [path.join(__dirname, "register-ts.cjs"), CHILD] : [CHILD];

/** How a child ended. */
export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running build child. */
export interface BuildChild {
  pid: number;
  /** Resolves once the child has loaded everything and starts building. */
  ready: Promise<void>;
  exited: Promise<ChildOutcome>;
  kill(): void;
}

/** Starts a build child: `node build-child.js <config>`. */
export function startBuild(config: BuildChildConfig, environment: NodeJS.ProcessEnv = process.env): BuildChild {
  const child = spawn(process.execPath, [...ARGUMENTS, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"], env: environment });
  let stdout = "";
  let stderr = "";
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    if (stdout.startsWith("ready\n")) markReady();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<ChildOutcome>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      markReady();
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid!, ready, exited, kill: () => child.kill("SIGKILL") };
}

/** A seeded pseudo-random generator (mulberry32) of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` kill times spread over `[0, span)` ms: one at a random point of each of `count` equal slices, in a random order. */
export function killTimes(random: () => number, count: number, span: number): number[] {
  const times = Array.from({ length: count }, (_, slice) => Math.round(((slice + random()) / count) * span));
  for (let index = times.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [times[index], times[other]] = [times[other]!, times[index]!];
  }
  return times;
}

export function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
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
