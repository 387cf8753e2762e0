// pnpm bench [--quick] [--sizes 1000000,10000000] [--entities 100000,1000000] [--runs 5] [--only build,s3,training,rolling,checks]
// Measures mlforge against raw DuckDB baselines in the same run, alternating the two, each run in
// a fresh process; reports medians, ratios and peak memory to bench/results/.
import { execFile } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { generateTransactions } from "@mlforge/example/generate-transactions";
import { startS3Server } from "@mlforge/s3-test-server";
import { clean, writeEntities } from "./cases";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const benchRoot = path.resolve(here, "..");

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    sizes: { type: "string" },
    runs: { type: "string" },
    entities: { type: "string" },
    only: { type: "string" },
  },
});
const sizes = (values.sizes ?? (values.quick ? "200000,1000000" : "1000000,10000000,30000000")).split(",").map(Number);
const runs = Number(values.runs ?? 3);
const only = values.only?.split(",");
// A run with the default settings is "full"; one narrowed by flags is kept apart as "custom".
const narrowed = [values.sizes, values.runs, values.entities, values.only].some((value) => value !== undefined);
const entityCounts = (values.entities ?? (values.quick ? "100000" : "100000,1000000,5000000")).split(",").map(Number);

interface Measurement {
  ms: number;
  peakRssMb: number;
}

/** A comparison: mlforge's case against its baseline(s), at one size. */
interface Row {
  name: string;
  rows: number;
  mlforge: string;
  baselines: string[];
  /** Entity rows, for training comparisons. */
  entities?: number;
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function measure(name: string, options: Record<string, unknown>): Promise<Measurement> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", path.join(here, "measure.ts"), name, JSON.stringify(options)], {
    cwd: benchRoot,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!) as Measurement;
}

async function dataset(rows: number): Promise<string> {
  const file = path.join(benchRoot, "data", `transactions-${rows}.parquet`);
  if (!(await stat(file).catch(() => undefined))) {
    process.stderr.write(`generating ${rows.toLocaleString("en-US")} transactions… `);
    // Users grow with rows, so the time-stamped feature grows too (about 8.7M rows at 10M transactions).
    const result = await generateTransactions({ rows, out: file, users: Math.max(1_000, Math.round(rows / 50)), products: 1_000 });
    process.stderr.write(`${(result.durationMs / 1000).toFixed(1)} s\n`);
  }
  return file;
}

const s3 = await startS3Server(["bench"]);
let runNumber = 0;

const results: Array<Row & { medians: Record<string, Measurement>; ratio: number; fastestBaseline: string }> = [];

for (const rows of sizes) {
  const data = await dataset(rows);
  const store = path.join(benchRoot, "data", `store-${rows}`);
  await measure("prepare-store", { data, store });
  const entityFiles = new Map<number, string>();
  for (const count of entityCounts) {
    const file = path.join(benchRoot, "data", `entities-${rows}-${count}.parquet`);
    if (!(await stat(file).catch(() => undefined))) await writeEntities(data, count, file);
    entityFiles.set(count, file);
  }
  const comparisons: Row[] = [
    { name: "build (LocalStore)", rows, mlforge: "build-mlforge", baselines: ["build-raw"] },
    { name: "build (S3Store, local S3 server)", rows, mlforge: "s3-mlforge", baselines: ["s3-raw"] },
    { name: "rolling build (7d, 30d; 1d; 4 aggregations)", rows, mlforge: "rolling-mlforge", baselines: ["rolling-raw"] },
    { name: "build with checks on every column", rows, mlforge: "checks-with", baselines: ["checks-without"] },
    ...entityCounts.map((count) => ({ name: `training data, ${count.toLocaleString("en-US")} entity rows`, rows, entities: count, mlforge: "training-mlforge", baselines: ["training-asof", "training-rank"] })),
  ].filter((comparison) => only === undefined || only.some((kind) => comparison.mlforge.startsWith(kind)));
  // The rolling comparison holds only if both sides write the same rows: proved once per size.
  if (comparisons.some((comparison) => comparison.mlforge === "rolling-mlforge")) {
    const out = path.join(os.tmpdir(), `mlforge-bench-${process.pid}-rolling-same-rows`);
    await measure("rolling-same-rows", { data, out });
    await clean(out);
  }
  for (const comparison of comparisons) {
    const cases = [...comparison.baselines, comparison.mlforge];
    const samples: Record<string, Measurement[]> = Object.fromEntries(cases.map((name) => [name, []]));
    for (let index = 0; index < runs; index++) {
      // Alternate the order so that neither side always runs on a warmer page cache.
      for (const name of index % 2 === 0 ? cases : [...cases].reverse()) {
        const out = path.join(os.tmpdir(), `mlforge-bench-${process.pid}-${name}`);
        await clean(out);
        const entities = comparison.entities === undefined ? undefined : entityFiles.get(comparison.entities);
        samples[name]!.push(await measure(name, { data, out, store, entities, s3: { endpoint: s3.endpoint, bucket: "bench", prefix: `run-${runNumber++}` } }));
        await clean(out);
      }
    }
    const medians = Object.fromEntries(
      cases.map((name) => [name, { ms: median(samples[name]!.map((sample) => sample.ms)), peakRssMb: Math.max(...samples[name]!.map((sample) => sample.peakRssMb)) }]),
    );
    const fastestBaseline = comparison.baselines.reduce((best, name) => (medians[name]!.ms < medians[best]!.ms ? name : best));
    const ratio = medians[comparison.mlforge]!.ms / medians[fastestBaseline]!.ms;
    results.push({ ...comparison, medians, ratio, fastestBaseline });
    process.stderr.write(
      `${comparison.name} @ ${rows.toLocaleString("en-US")}: ${cases.map((name) => `${name} ${medians[name]!.ms.toFixed(0)} ms / ${medians[name]!.peakRssMb.toFixed(0)} MB`).join(", ")} → ${ratio.toFixed(3)}×\n`,
    );
  }
}

await s3.close();

const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
const stamp = new Date().toISOString();
const table = [
  `# mlforge benchmark (${values.quick ? "quick" : narrowed ? `custom: ${process.argv.slice(2).join(" ")}` : "full"})`,
  "",
  `${stamp}: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}; median of ${runs} alternating runs, each in a fresh process; peak memory is the largest maxRSS.`,
  "",
  "| comparison | transactions | mlforge | baselines (fastest first) | ratio to fastest | mlforge peak | fastest baseline peak | peak difference |",
  "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |",
  ...results.map((row) => {
    const ours = row.medians[row.mlforge]!;
    const theirs = row.medians[row.fastestBaseline]!;
    const baselines = [...row.baselines].sort((a, b) => row.medians[a]!.ms - row.medians[b]!.ms).map((name) => `${name} ${row.medians[name]!.ms.toFixed(0)} ms`);
    return `| ${row.name} | ${row.rows.toLocaleString("en-US")} | ${ours.ms.toFixed(0)} ms | ${baselines.join(", ")} | ${row.ratio.toFixed(3)}× | ${ours.peakRssMb.toFixed(0)} MB | ${theirs.peakRssMb.toFixed(0)} MB | ${(ours.peakRssMb - theirs.peakRssMb).toFixed(0)} MB |`;
  }),
  "",
].join("\n");
await mkdir(path.join(benchRoot, "results"), { recursive: true });
const name = values.quick ? "quick" : narrowed ? "custom" : "full";
await writeFile(path.join(benchRoot, "results", `${name}.md`), table);
await writeFile(path.join(benchRoot, "results", `${name}.json`), `${JSON.stringify({ stamp, machine, runs, results }, null, 2)}\n`);
process.stdout.write(table);
