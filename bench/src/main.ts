// pnpm bench [--quick] [--sizes 1000000,10000000] [--entities 100000,1000000] [--runs 5] [--only offline|build,s3,training,rolling,checks,online-read,online-sync,server]
//            [--skewed-rows 5000000] [--skewed-entities 100000,1000000] [--sync-entities 1000000,10000000] [--calls 20000] [--server-seconds 10] [--server-batches 1,100] [--server-connections 1,10,50]
//            [--server-cpu-prof <directory>]
// Measures mlforge against raw baselines (DuckDB; node-redis and lmdb for the online cases; a bare
// Fastify route for the feature server) in the same run, alternating the two, each run in a fresh
// process; reports medians, ratios and peak memory (online reads and the server: latencies and
// requests/s) to bench/results/.
import { execFile } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { generateTransactions } from "@mlforge/example/generate-transactions";
import { startRedis } from "@mlforge/redis-test-server";
import { startS3Server } from "@mlforge/s3-test-server";
import { createClient } from "redis";
import { clean, writeEntities } from "./cases";
import { writeSkewedEntities, writeSkewedEvents } from "./skewed-cases";
import { writeOnlineValues, type ReadResult } from "./online";
import type { ServerLoadResult } from "./server-load";

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
    "sync-entities": { type: "string" },
    calls: { type: "string" },
    "server-seconds": { type: "string" },
    "server-cpu-prof": { type: "string" },
    "server-batches": { type: "string" },
    "server-connections": { type: "string" },
    "skewed-rows": { type: "string" },
    "skewed-entities": { type: "string" },
  },
});
const sizes = (values.sizes ?? (values.quick ? "200000,1000000" : "1000000,5000000,10000000,30000000")).split(",").map(Number);
const runs = Number(values.runs ?? 3);
// `--only offline` is every build and training comparison of both data shapes (results/offline.*).
const only = values.only?.split(",").flatMap((kind) => (kind === "offline" ? ["build", "s3", "training"] : [kind]));
// A run with the default settings is "full"; one narrowed by flags is kept apart as "custom".
const narrowed = [values.sizes, values.runs, values.entities, values.only, values["sync-entities"], values.calls, values["skewed-rows"], values["skewed-entities"], values["server-seconds"], values["server-cpu-prof"], values["server-batches"], values["server-connections"]].some(
  (value) => value !== undefined,
);
const entityCounts = (values.entities ?? (values.quick ? "100000" : "100000,1000000,5000000")).split(",").map(Number);
/** Rows of the second data shape (few skewed keys with many rows each); 0 leaves it out. */
const skewedRows = Number(values["skewed-rows"] ?? (values.quick ? 500_000 : 5_000_000));
const skewedEntityCounts = (values["skewed-entities"] ?? (values.quick ? "100000" : "100000,1000000")).split(",").map(Number);
/**
 * The rank plan over the skewed shape joins billions of pairs (hours): its runs are stopped after
 * this long and reported as "> limit", once, which is all the comparison needs.
 */
const skewedRankLimitMs = values.quick ? 10_000 : 60_000;
/** Entities synced into Redis per sync comparison. */
const syncCounts = (values["sync-entities"] ?? (values.quick ? "50000" : "1000000,10000000")).split(",").map(Number);
/** Measured calls per side, store and batch size of the read comparisons (after warm-up). */
const readCalls = Number(values.calls ?? (values.quick ? 2_000 : 20_000));
/** Entities the read features hold. */
const readEntities = values.quick ? 10_000 : 100_000;
/** Warm-up calls per side before the measured ones: a tenth of them, at least 1,000 (500 in --quick, which CI runs). */
const readWarmup = values.quick ? 500 : Math.max(1_000, Math.ceil(readCalls / 10));
/** Seconds per measured autocannon run of the server case (each also stops after `serverRequests` responses). */
const serverSeconds = Number(values["server-seconds"] ?? (values.quick ? 1 : 10));
const serverRequests = values.quick ? 200 : 500_000;
/** Measured runs per side of each server row, alternating the sides. */
const serverRounds = Number(values.runs ?? (values.quick ? 1 : 3));
const serverConnections = (values["server-connections"] ?? "1,10,50").split(",").map(Number);
const serverBatches = (values["server-batches"] ?? "1,100").split(",").map(Number);
const selected = (kind: string) => only === undefined || only.some((prefix) => kind.startsWith(prefix));
const offlineSelected = ["build", "s3", "training"].some(selected);

interface Measurement {
  ms: number;
  /** User + system CPU time of the case in its process. */
  cpuMs?: number;
  peakRssMb: number;
  /** Figures of the online read cases. */
  reads?: ReadResult[];
  /** Figures of the server load case. */
  servers?: ServerLoadResult[];
  /** Set when the run was stopped at its time limit: `ms` is then the limit, a lower bound. */
  stopped?: boolean;
}

/** A comparison: mlforge's case against its baseline(s), at one size. */
interface Row {
  name: string;
  rows: number;
  /** What the rows are: "transactions" (the example's) or "skewed rows" (the second shape). */
  data: string;
  mlforge: string;
  baselines: string[];
  /** Entity rows, for training comparisons. */
  entities?: number;
  /** Cases stopped after this long (a plan that would take hours). */
  limits?: Record<string, number>;
  /** The plan "auto" picked, and the rank plan's estimated pairs (training comparisons). */
  plan?: { plan: string; pairs?: number };
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

async function measure(name: string, options: object, limitMs?: number): Promise<Measurement> {
  try {
    const { stdout } = await run(process.execPath, ["--import", "tsx", path.join(here, "measure.ts"), name, JSON.stringify(options)], {
      cwd: benchRoot,
      maxBuffer: 16 * 1024 * 1024,
      ...(limitMs === undefined ? {} : { timeout: limitMs, killSignal: "SIGKILL" as const }),
    });
    return JSON.parse(stdout.trim().split("\n").pop()!) as Measurement;
  } catch (error) {
    if (limitMs !== undefined && (error as { killed?: boolean }).killed === true) return { ms: limitMs, peakRssMb: Number.NaN, stopped: true };
    throw error;
  }
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

let runNumber = 0;

const results: Array<Row & { medians: Record<string, Measurement>; ratio: number; fastestBaseline: string; loadAverage: number[]; samples: Record<string, Measurement[]> }> = [];
const keep = (comparison: Row) => only === undefined || only.some((kind) => comparison.mlforge.startsWith(kind));

/** Runs each comparison's cases alternately, `runs` times, and records medians and ratios. */
async function compare(comparisons: readonly Row[], options: (comparison: Row) => object): Promise<void> {
  for (const comparison of comparisons) {
    const cases = [...comparison.baselines, comparison.mlforge];
    const samples: Record<string, Measurement[]> = Object.fromEntries(cases.map((name) => [name, []]));
    for (let index = 0; index < runs; index++) {
      // Alternate the order so that neither side always runs on a warmer page cache.
      for (const name of index % 2 === 0 ? cases : [...cases].reverse()) {
        // A case stopped at its limit once is slower than the limit: running it again tells nothing more.
        if (samples[name]!.some((sample) => sample.stopped === true)) continue;
        const out = path.join(os.tmpdir(), `mlforge-bench-${process.pid}-${name}`);
        await clean(out);
        samples[name]!.push(await measure(name, { ...options(comparison), out, s3: { endpoint: s3!.endpoint, bucket: "bench", prefix: `run-${runNumber++}` } }, comparison.limits?.[name]));
        await clean(out);
      }
    }
    const medians = Object.fromEntries(
      cases.map((name) => {
        const stopped = samples[name]!.some((sample) => sample.stopped === true);
        const finished = samples[name]!.filter((sample) => sample.stopped !== true);
        return [
          name,
          stopped
            ? { ms: comparison.limits![name]!, cpuMs: Number.NaN, peakRssMb: Number.NaN, stopped }
            : { ms: median(finished.map((sample) => sample.ms)), cpuMs: median(finished.map((sample) => sample.cpuMs ?? Number.NaN)), peakRssMb: Math.max(...finished.map((sample) => sample.peakRssMb)) },
        ];
      }),
    );
    const fastestBaseline = comparison.baselines.reduce((best, name) => (medians[name]!.ms < medians[best]!.ms ? name : best));
    const ratio = medians[comparison.mlforge]!.ms / medians[fastestBaseline]!.ms;
    const loadAverage = os.loadavg();
    results.push({ ...comparison, medians, ratio, fastestBaseline, loadAverage, samples });
    process.stderr.write(
      `${comparison.name} @ ${comparison.rows.toLocaleString("en-US")} ${comparison.data}: ` +
        `${cases.map((name) => `${name} ${medians[name]!.stopped ? ">" : ""}${medians[name]!.ms.toFixed(0)} ms / ${medians[name]!.peakRssMb.toFixed(0)} MB`).join(", ")} → ${ratio.toFixed(3)}×` +
        `${comparison.plan === undefined ? "" : ` (${comparison.plan.plan})`}; load ${loadAverage.map((value) => value.toFixed(1)).join(", ")}\n`,
    );
  }
}

const s3 = offlineSelected ? await startS3Server(["bench"]) : undefined;
for (const rows of offlineSelected ? sizes : []) {
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
    { name: "build (LocalStore)", rows, data: "transactions", mlforge: "build-mlforge", baselines: ["build-raw"] },
    { name: "build (S3Store, local S3 server)", rows, data: "transactions", mlforge: "s3-mlforge", baselines: ["s3-raw"] },
    { name: "rolling build (7d, 30d; 1d; 4 aggregations)", rows, data: "transactions", mlforge: "rolling-mlforge", baselines: ["rolling-raw"] },
    { name: "build with checks on every column", rows, data: "transactions", mlforge: "checks-with", baselines: ["checks-without"] },
    ...entityCounts.map((count) => ({ name: `training data, ${count.toLocaleString("en-US")} entity rows`, rows, data: "transactions", entities: count, mlforge: "training-mlforge", baselines: ["training-asof", "training-rank"] })),
  ].filter(keep);
  // The rolling comparison holds only if both sides write the same rows: proved once per size.
  if (comparisons.some((comparison) => comparison.mlforge === "rolling-mlforge")) {
    const out = path.join(os.tmpdir(), `mlforge-bench-${process.pid}-rolling-same-rows`);
    await measure("rolling-same-rows", { data, out });
    await clean(out);
  }
  for (const comparison of comparisons) {
    if (comparison.entities !== undefined) comparison.plan = (await measure("training-plan", { data, store, entities: entityFiles.get(comparison.entities) })) as unknown as Row["plan"];
  }
  await compare(comparisons, (comparison) => ({ data, store, entities: comparison.entities === undefined ? undefined : entityFiles.get(comparison.entities) }));
}

// The second data shape: few keys, skewed, with many rows each.
if (offlineSelected && skewedRows > 0) {
  const rows = skewedRows;
  const data = path.join(benchRoot, "data", `skewed-${rows}.parquet`);
  await writeSkewedEvents(rows, data);
  const store = path.join(benchRoot, "data", `skewed-store-${rows}`);
  const entityFiles = new Map(skewedEntityCounts.map((count) => [count, path.join(benchRoot, "data", `skewed-entities-${rows}-${count}.parquet`)]));
  for (const [count, file] of entityFiles) await writeSkewedEntities(count, file);
  const comparisons: Row[] = [
    { name: "build (LocalStore), account_balance", rows, data: "skewed rows", mlforge: "build-skewed-mlforge", baselines: ["build-skewed-raw"] },
    ...skewedEntityCounts.map((count) => ({
      name: `training data, ${count.toLocaleString("en-US")} entity rows`,
      rows,
      data: "skewed rows",
      entities: count,
      mlforge: "training-skewed-mlforge",
      baselines: ["training-skewed-asof", "training-skewed-rank"],
      // mlforge too: a plan rule that picked the rank plan here would not finish either.
      limits: { "training-skewed-rank": skewedRankLimitMs, "training-skewed-mlforge": 2 * skewedRankLimitMs },
    })),
  ].filter(keep);
  if (comparisons.some((comparison) => comparison.entities !== undefined)) await measure("prepare-skewed-store", { data, store });
  for (const comparison of comparisons) {
    if (comparison.entities !== undefined) comparison.plan = (await measure("training-skewed-plan", { data, store, entities: entityFiles.get(comparison.entities) })) as unknown as Row["plan"];
  }
  await compare(comparisons, (comparison) => ({ data, store, entities: comparison.entities === undefined ? undefined : entityFiles.get(comparison.entities) }));
}

await s3?.close();

/** One sync comparison: mlforge and raw at one entity count. */
interface SyncRow {
  entities: number;
  medians: Record<string, Measurement>;
  ratio: number;
}
const reads: ReadResult[] = [];
const syncs: SyncRow[] = [];
const servers: ServerLoadResult[] = [];
if (selected("online-read") || selected("online-sync") || selected("server")) {
  const redis = await startRedis();
  const admin = createClient({ url: redis.url });
  await admin.connect();
  try {
    if (selected("online-read")) {
      const data = path.join(benchRoot, "data", `online-values-${readEntities}.parquet`);
      await writeOnlineValues(readEntities, data);
      const store = path.join(benchRoot, "data", `online-read-store-${readEntities}`);
      await measure("online-prepare-read", { values: data, store });
      for (const name of ["online-read-redis", "online-read-local"]) {
        const out = path.join(os.tmpdir(), `mlforge-bench-${process.pid}-${name}`);
        await clean(out);
        await admin.flushAll();
        const measured = await measure(name, { redisUrl: redis.url, values: data, store, out, calls: readCalls, entities: readEntities, warmup: readWarmup });
        await clean(out);
        for (const read of measured.reads!) {
          reads.push(read);
          process.stderr.write(
            `online read (${read.store}), ${read.batch} entities x 50 columns: mlforge p50 ${read.mlforge.p50.toFixed(3)} / p99 ${read.mlforge.p99.toFixed(3)} ms, ` +
              `raw p50 ${read.raw.p50.toFixed(3)} / p99 ${read.raw.p99.toFixed(3)} ms → p99 ${(read.mlforge.p99 / read.raw.p99).toFixed(3)}×\n`,
          );
        }
      }
    }
    if (selected("online-sync")) {
      for (const count of syncCounts) {
        const data = path.join(benchRoot, "data", `online-values-${count}.parquet`);
        if (!(await stat(data).catch(() => undefined))) process.stderr.write(`generating ${count.toLocaleString("en-US")} online entities…\n`);
        await writeOnlineValues(count, data);
        const store = path.join(benchRoot, "data", `online-sync-store-${count}`);
        await measure("online-prepare-sync", { values: data, store });
        const cases = ["online-sync-raw", "online-sync-mlforge"];
        const samples: Record<string, Measurement[]> = Object.fromEntries(cases.map((name) => [name, []]));
        for (let index = 0; index < runs; index++) {
          for (const name of index % 2 === 0 ? cases : [...cases].reverse()) {
            // Each run writes into an empty Redis: neither side pays for the other's hash.
            await admin.flushAll();
            samples[name]!.push(await measure(name, { redisUrl: redis.url, values: data, store, out: os.tmpdir() }));
          }
        }
        await admin.flushAll();
        const medians = Object.fromEntries(
          cases.map((name) => [
            name,
            { ms: median(samples[name]!.map((sample) => sample.ms)), cpuMs: median(samples[name]!.map((sample) => sample.cpuMs ?? Number.NaN)), peakRssMb: Math.max(...samples[name]!.map((sample) => sample.peakRssMb)) },
          ]),
        );
        const ratio = medians["online-sync-mlforge"]!.ms / medians["online-sync-raw"]!.ms;
        syncs.push({ entities: count, medians, ratio });
        process.stderr.write(
          `online sync @ ${count.toLocaleString("en-US")} entities: ${cases.map((name) => `${name} ${medians[name]!.ms.toFixed(0)} ms (CPU ${medians[name]!.cpuMs!.toFixed(0)} ms) / ${medians[name]!.peakRssMb.toFixed(0)} MB`).join(", ")} → ${ratio.toFixed(3)}×\n`,
        );
      }
    }
    if (selected("server")) {
      // The five read features of the online reads, served over HTTP: 1 and 100 entities x 50 columns.
      const data = path.join(benchRoot, "data", `online-values-${readEntities}.parquet`);
      await writeOnlineValues(readEntities, data);
      const store = path.join(benchRoot, "data", `online-read-store-${readEntities}`);
      await measure("online-prepare-read", { values: data, store });
      await admin.flushAll();
      if (values["server-cpu-prof"] !== undefined) await mkdir(path.resolve(values["server-cpu-prof"]), { recursive: true });
      const measured = await measure("server-load", {
        redisUrl: redis.url,
        values: data,
        store,
        entities: readEntities,
        batches: serverBatches,
        connections: serverConnections,
        rounds: serverRounds,
        seconds: serverSeconds,
        maxRequests: serverRequests,
        warmupSeconds: values.quick ? 0.5 : 2,
        warmupRequests: values.quick ? 100 : 20_000,
        ...(values["server-cpu-prof"] === undefined ? {} : { cpuProfileDirectory: path.resolve(values["server-cpu-prof"]) }),
      });
      await admin.flushAll();
      for (const row of measured.servers!) {
        servers.push(row);
        process.stderr.write(
          `server, ${row.batch} entities x 50 columns, ${row.connections} connections: mlforge p50 ${row.mlforge.latency.p50.toFixed(3)} / p99 ${row.mlforge.latency.p99.toFixed(3)} ms, ${row.mlforge.requestsPerSecond.toFixed(0)} req/s; ` +
            `bare p50 ${row.bare.latency.p50.toFixed(3)} / p99 ${row.bare.latency.p99.toFixed(3)} ms, ${row.bare.requestsPerSecond.toFixed(0)} req/s → ` +
            `p99 ${(row.mlforge.latency.p99 / row.bare.latency.p99).toFixed(2)}×, req/s ${(row.mlforge.requestsPerSecond / row.bare.requestsPerSecond).toFixed(2)}×; failed ${row.mlforge.failures} / ${row.bare.failures} (load average ${row.loadAverage.map((value) => value.toFixed(1)).join("–")})\n`,
        );
      }
    }
  } finally {
    await admin.close();
    await redis.stop();
  }
}

const machine = { cores: os.cpus().length, cpu: os.cpus()[0]?.model ?? "unknown", memoryGb: Math.round(os.totalmem() / 2 ** 30), node: process.version };
const stamp = new Date().toISOString();
// `--only online` (not quick) is a run of the online part alone: results/online.*, the flags in its title.
const onlineOnly = !values.quick && only !== undefined && only.length === 1 && only[0] === "online";
// `--only server` (not quick) is a run of the server case alone: results/server.*.
const serverOnly = !values.quick && only !== undefined && only.length === 1 && only[0] === "server" && [values.runs, values["server-seconds"], values["server-cpu-prof"], values["server-batches"], values["server-connections"]].every((value) => value === undefined);
// `--only offline` likewise, narrowed or not: results/offline.*, the flags in its title.
const offlineOnly = !values.quick && values.only === "offline";
const name = values.quick ? "quick" : onlineOnly ? "online" : serverOnly ? "server" : offlineOnly ? "offline" : narrowed ? "custom" : "full";
const load = os.loadavg().map((value) => value.toFixed(1)).join(", ");
const ms = (value: number) => (value < 10 ? value.toFixed(3) : value.toFixed(1));
const onlineTables = [
  ...(reads.length === 0
    ? []
    : [
        "## Online reads",
        "",
        `\`getOnlineFeatures\` for 5 features × 10 columns (${readEntities.toLocaleString("en-US")} entities stored) against the raw calls fetching the same stored bytes in one round trip: ` +
          `node-redis HMGETs issued in one tick (Redis), lmdb \`get\`s (LocalOnlineStore). ${readCalls.toLocaleString("en-US")} calls per side after warm-up, in one process, alternating blocks; latencies in ms.`,
        "",
        "| store | entities per call | mlforge p50 | raw p50 | p50 ratio | mlforge p99 | raw p99 | p99 ratio | mlforge mean | raw mean |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...reads.map(
          (read) =>
            `| ${read.store === "redis" ? "Redis (node-redis)" : "LocalOnlineStore (lmdb)"} | ${read.batch} | ${ms(read.mlforge.p50)} | ${ms(read.raw.p50)} | ${(read.mlforge.p50 / read.raw.p50).toFixed(2)}× | ` +
            `${ms(read.mlforge.p99)} | ${ms(read.raw.p99)} | ${(read.mlforge.p99 / read.raw.p99).toFixed(2)}× | ${ms(read.mlforge.mean)} | ${ms(read.raw.mean)} |`,
        ),
        "",
      ]),
  ...(syncs.length === 0
    ? []
    : [
        "## Online sync into Redis",
        "",
        `\`defs.syncOnline({ force: true })\` of one feature (user_id plus 10 value columns) into an empty Redis, against raw DuckDB streaming the same Parquet plus node-redis pipelined HSETs into one hash (the same layout and bytes). Median of ${runs} alternating runs, each in a fresh process.`,
        "",
        "| entities | mlforge | raw | ratio | mlforge entities/s | mlforge CPU | raw CPU | CPU ratio | mlforge peak | raw peak | peak difference |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...syncs.map((row) => {
          const ours = row.medians["online-sync-mlforge"]!;
          const theirs = row.medians["online-sync-raw"]!;
          return `| ${row.entities.toLocaleString("en-US")} | ${ours.ms.toFixed(0)} ms | ${theirs.ms.toFixed(0)} ms | ${row.ratio.toFixed(3)}× | ${Math.round(row.entities / (ours.ms / 1000)).toLocaleString("en-US")} | ${ours.cpuMs!.toFixed(0)} ms | ${theirs.cpuMs!.toFixed(0)} ms | ${(ours.cpuMs! / theirs.cpuMs!).toFixed(3)}× | ${ours.peakRssMb.toFixed(0)} MB | ${theirs.peakRssMb.toFixed(0)} MB | ${(ours.peakRssMb - theirs.peakRssMb).toFixed(0)} MB |`;
        }),
        "",
      ]),
];
const ratio = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}×`;
const serverTables =
  servers.length === 0
    ? []
    : [
        "## Feature server under load",
        "",
        `\`POST /features/online\` of @mlforge/server (\`createFeatureServer\` over a RedisOnlineStore, defaults: no token, no logger, metrics on) against a bare Fastify route that sends the same HMGETs of the same hashes in one tick and returns the stored strings, ` +
          `for the 5 features × 10 columns of the online reads (${readEntities.toLocaleString("en-US")} entities stored); each server in its own process, autocannon in a third, one redis-server, all on 127.0.0.1 and the same ${machine.cores} cores. ` +
          `${serverRounds} run${serverRounds === 1 ? "" : "s"} per side and row of ${serverSeconds} s or ${serverRequests.toLocaleString("en-US")} responses (whichever first), alternating the sides, after a warm-up of each; ` +
          "latencies in ms over every response of the runs (a request autocannon timed out after 10 s counts as 10 s); requests/s are 200s over the runs; server CPU is the server process's user + system time per 200; " +
          "failed counts requests that got no 200 (timed out, connection errors, other statuses); load average is the 1-minute figure when each run started (lowest–highest).",
        "",
        "| entities per request | connections | mlforge p50 | bare p50 | mlforge p99 | bare p99 | p99 ratio | mlforge req/s | bare req/s | req/s ratio | server CPU per request, mlforge / bare | failed, mlforge / bare | load average |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ...servers.map(
          (row) =>
            `| ${row.batch} | ${row.connections} | ${ms(row.mlforge.latency.p50)} | ${ms(row.bare.latency.p50)} | ${ms(row.mlforge.latency.p99)} | ${ms(row.bare.latency.p99)} | ${ratio(row.mlforge.latency.p99, row.bare.latency.p99)} | ` +
            `${Math.round(row.mlforge.requestsPerSecond).toLocaleString("en-US")} | ${Math.round(row.bare.requestsPerSecond).toLocaleString("en-US")} | ${ratio(row.mlforge.requestsPerSecond, row.bare.requestsPerSecond)} | ` +
            `${row.mlforge.cpuMicrosecondsPerRequest.toFixed(0)} µs / ${row.bare.cpuMicrosecondsPerRequest.toFixed(0)} µs | ${row.mlforge.failures} / ${row.bare.failures} | ${row.loadAverage.map((value) => value.toFixed(1)).join("–")} |`,
        ),
        "",
        "Goal: p99 within 1.3× of the bare route, requests/s at least 0.8× of it. For scale only: Feast's published Go feature server figure is p99 4.32 ms at 1 entity × 50 features " +
          "(Feast's \"Go feature server benchmarks\", July 2022: a 16-vCPU c5.4xlarge with Redis beside it in Docker); the machines, load generators and data differ, so that is a magnitude, not a ratio.",
        "",
      ];
const table = [
  `# mlforge benchmark (${values.quick ? "quick" : narrowed ? `${name}: ${process.argv.slice(2).join(" ")}` : name})`,
  "",
  `${stamp}: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}; load average at the end ${load}` +
    // The server case describes its own runs in its section.
    (results.length + reads.length + syncs.length === 0 ? "." : `; median of ${runs} alternating runs, each in a fresh process; peak memory is the largest maxRSS.`),
  "",
  ...(results.length === 0 ? [] : [
  "| comparison | data | mlforge | baselines (fastest first) | ratio to fastest | CPU ratio | mlforge peak | fastest baseline peak | peak difference | plan (estimated pairs) | load average (1, 5, 15 min) |",
  "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
  ...results.map((row) => {
    const ours = row.medians[row.mlforge]!;
    const theirs = row.medians[row.fastestBaseline]!;
    const baselines = [...row.baselines]
      .sort((a, b) => row.medians[a]!.ms - row.medians[b]!.ms)
      .map((name) => `${name} ${row.medians[name]!.stopped ? `> ${row.medians[name]!.ms.toFixed(0)} ms (stopped)` : `${row.medians[name]!.ms.toFixed(0)} ms`}`);
    const plan = row.plan === undefined ? "" : `${row.plan.plan}${row.plan.pairs === undefined ? "" : ` (${(row.plan.pairs / 1e6).toFixed(1)}M)`}`;
    return (
      `| ${row.name} | ${row.rows.toLocaleString("en-US")} ${row.data} | ${ours.ms.toFixed(0)} ms | ${baselines.join(", ")} | ${row.ratio.toFixed(3)}× | ${((ours.cpuMs ?? Number.NaN) / (theirs.cpuMs ?? Number.NaN)).toFixed(3)}× | ` +
      `${ours.peakRssMb.toFixed(0)} MB | ${theirs.peakRssMb.toFixed(0)} MB | ${(ours.peakRssMb - theirs.peakRssMb).toFixed(0)} MB | ${plan} | ${row.loadAverage.map((value) => value.toFixed(1)).join(", ")} |`
    );
  }),
  ""]),
  ...onlineTables,
  ...serverTables,
].join("\n");
await mkdir(path.join(benchRoot, "results"), { recursive: true });
await writeFile(path.join(benchRoot, "results", `${name}.md`), table);
const serverJson = { readEntities, rounds: serverRounds, seconds: serverSeconds, maxRequests: serverRequests, rows: servers };
await writeFile(path.join(benchRoot, "results", `${name}.json`), `${JSON.stringify({ stamp, machine, loadAverage: os.loadavg(), runs, results, online: { readCalls, readEntities, reads, syncs }, server: serverJson }, null, 2)}\n`);
if (name === "full" && servers.length > 0) {
  // The server figures also stand alone, as `--only server` writes them.
  const header = `# mlforge benchmark (server, from a full run)\n\n${stamp}: ${machine.cores} cores (${machine.cpu}), ${machine.memoryGb} GiB, Node ${machine.node}; load average at the end ${load}.\n\n`;
  await writeFile(path.join(benchRoot, "results", "server.md"), header + serverTables.join("\n"));
  await writeFile(path.join(benchRoot, "results", "server.json"), `${JSON.stringify({ stamp, machine, loadAverage: os.loadavg(), server: serverJson }, null, 2)}\n`);
}
process.stdout.write(table);
