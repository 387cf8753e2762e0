// The server load case: autocannon against `POST /features/online` of @mlforge/server and of a
// bare Fastify route doing the raw pipelined HMGETs of the same stored bytes (serve.ts), both
// served from processes of their own on 127.0.0.1 and measured in the same run, interleaved.
import { fork, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { RedisOnlineStore } from "@mlforge/online-redis";
import autocannon from "autocannon";
import { READ_FEATURES, VALUE_COLUMNS, onlineDefinitions, randomIndexes, userId } from "./online";
import type { ServeOptions } from "./serve";

const here = path.dirname(fileURLToPath(import.meta.url));

/** Options of the server load case, from the runner. */
export interface ServerLoadOptions {
  /** `redis://127.0.0.1:<port>` of the benchmark's own redis-server. */
  redisUrl: string;
  /** The generated values Parquet (user_id plus 10 value columns). */
  values: string;
  /** The LocalStore the five read features are built into. */
  store: string;
  /** Entities the features hold. */
  entities: number;
  /** Entities per request. */
  batches: number[];
  /** autocannon connections. */
  connections: number[];
  /** Measured runs per side, batch and connection count, alternating sides. */
  rounds: number;
  /** Each measured run stops after this many seconds… */
  seconds: number;
  /** …or this many responses, whichever comes first. */
  maxRequests: number;
  /** Each side's warm-up before the measured runs of a batch and connection count, bounded the same way. */
  warmupSeconds: number;
  warmupRequests: number;
  /** When set, each server process writes V8 CPU profiles (`--cpu-prof`) into `<directory>/<mlforge|bare>/`. */
  cpuProfileDirectory?: string;
}

/** Latency figures of one side, in ms, over every measured response of its runs. */
export interface LoadLatencies {
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

/** One side's figures at one batch size and connection count. */
export interface LoadSide {
  latency: LoadLatencies;
  /** Responses per second over the measured runs (responses / time from start to last response). */
  requestsPerSecond: number;
  responses: number;
  /** The server process's CPU time (user + system) per response, in µs. */
  cpuMicrosecondsPerRequest: number;
  /** Response body bytes per response. */
  bytesPerResponse: number;
  /** Requests that got no 200 (timeouts, connection errors, other statuses); the timed out among them. */
  failures: number;
  timeouts: number;
  /** Per measured run: p99 (ms) and requests/s, to show how much runs differ. */
  runs: Array<{ p99: number; requestsPerSecond: number; loadAverage: number }>;
}

/** One row of the server comparison. */
export interface ServerLoadResult {
  batch: number;
  connections: number;
  mlforge: LoadSide;
  bare: LoadSide;
  /** The 1-minute load average when each run of the row started: lowest and highest. */
  loadAverage: [number, number];
}

type Side = "mlforge" | "bare";

/** A served side in its own process. */
interface ServedSide {
  url: string;
  process: ChildProcess;
  /** Its CPU time so far (user + system), in µs. */
  cpu(): Promise<number>;
  close(): Promise<void>;
}

async function serve(side: Side, options: ServeOptions, cpuProfileDirectory: string | undefined): Promise<ServedSide> {
  // A directory per side with Node's own file names: the module loader's thread writes a profile too.
  const profile = cpuProfileDirectory === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", path.join(cpuProfileDirectory, side)];
  const child = fork(path.join(here, "serve.ts"), [side, JSON.stringify(options)], { execArgv: ["--import", "tsx", ...profile], stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const url = await new Promise<string>((resolve, reject) => {
    child.once("message", (message: { type: string; url?: string }) => (message.type === "listening" ? resolve(message.url!) : reject(new Error(`The ${side} server sent ${JSON.stringify(message)} first.`))));
    void exited.then((code) => reject(new Error(`The ${side} server exited with code ${code} before listening.`)));
  });
  return {
    url,
    process: child,
    cpu: () =>
      new Promise((resolve) => {
        child.once("message", (message: { usage: NodeJS.CpuUsage }) => resolve(message.usage.user + message.usage.system));
        child.send({ type: "cpu" });
      }),
    close: async () => {
      if (child.exitCode === null) child.send({ type: "close" });
      const code = await exited;
      if (code !== 0) throw new Error(`The ${side} server exited with code ${code}.`);
    },
  };
}

/** autocannon's per-request timeout, in seconds. */
const REQUEST_TIMEOUT_SECONDS = 10;

/**
 * One autocannon run against `url`: every 200's latency (ms), the window it took, its bytes, and
 * the requests that failed (timed out, connection errors, other statuses). A timed-out request
 * counts among the latencies as the timeout, a lower bound of what it would have taken.
 */
async function load(
  url: string,
  bodies: readonly string[],
  connections: number,
  seconds: number,
  maxRequests: number,
): Promise<{ latencies: number[]; elapsedMs: number; bytes: number; failures: number; timeouts: number }> {
  const latencies: number[] = [];
  let bytes = 0;
  let last = 0;
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `${url}/features/online`,
        connections,
        pipelining: 1,
        // Bounded in time and in count: whichever comes first ends the run.
        duration: seconds,
        maxOverallRequests: Math.max(maxRequests, connections),
        // The run ends within 100 ms of its bound (autocannon checks between samples).
        sampleInt: 100,
        timeout: REQUEST_TIMEOUT_SECONDS,
        // Each connection cycles through the same deterministic bodies; built once, not per request.
        requests: bodies.map((body) => ({ method: "POST", path: "/features/online", headers: { "content-type": "application/json" }, body })),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    // autocannon's own histogram keeps whole milliseconds; the event has the exact time.
    instance.on("response", (_client: unknown, statusCode: number, responseBytes: number, responseTime: number) => {
      if (statusCode === 200) {
        latencies.push(responseTime);
        bytes += responseBytes;
        last = performance.now();
      }
    });
  });
  for (let index = 0; index < result.timeouts; index++) latencies.push(REQUEST_TIMEOUT_SECONDS * 1000);
  return { latencies, elapsedMs: (last === 0 ? performance.now() : last) - started, bytes, failures: result.errors + result.non2xx, timeouts: result.timeouts };
}

/** p50, p99, mean and max of `samples`. */
function summarize(samples: number[]): LoadLatencies {
  const sorted = Float64Array.from(samples).sort();
  const at = (quantile: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(quantile * sorted.length) - 1))]!;
  let sum = 0;
  for (const value of sorted) sum += value;
  return { p50: at(0.5), p99: at(0.99), mean: sum / sorted.length, max: sorted[sorted.length - 1]! };
}

/** Checks, on a few bodies, that both sides return the same stored values for the same request. */
async function sameValues(mlforge: string, bare: string, bodies: readonly string[]): Promise<void> {
  for (const body of bodies.slice(0, 8)) {
    const post = async (url: string) => {
      const response = await fetch(`${url}/features/online`, { method: "POST", headers: { "content-type": "application/json" }, body });
      if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${await response.text()}`);
      return response.json();
    };
    const ours = (await post(mlforge)) as { rows: Array<Record<string, unknown>> };
    const theirs = (await post(bare)) as { values: Array<Array<string | null>> };
    const entities = (JSON.parse(body) as { entities: unknown[] }).entities;
    if (ours.rows.length !== entities.length) throw new Error(`The feature server returned ${ours.rows.length} rows for ${entities.length} entities.`);
    for (const [row, output] of ours.rows.entries()) {
      if (Object.keys(output).length !== 51) throw new Error(`The feature server returned ${Object.keys(output).length} columns, expected 51.`);
      for (const [feature, values] of theirs.values.entries()) {
        const stored = JSON.stringify(JSON.parse(values[row]!));
        const served = JSON.stringify(VALUE_COLUMNS.map((column) => output[`r${feature}_${column}`]));
        if (served !== stored) throw new Error(`The feature server and the bare route disagree on row ${row} of ${body}: ${served} vs ${stored}.`);
      }
    }
  }
}

/**
 * Syncs the five read features into Redis, starts both servers, checks that they return the same
 * values, then for each batch size and connection count warms each side up and measures `rounds`
 * runs of each, alternating which goes first.
 */
export async function serverLoad(options: ServerLoadOptions): Promise<{ servers: ServerLoadResult[] }> {
  const defs = onlineDefinitions(options, new RedisOnlineStore({ url: options.redisUrl }));
  try {
    await defs.syncOnline({ features: READ_FEATURES, force: true });
  } finally {
    await defs.close();
  }

  const serveOptions: ServeOptions = { redisUrl: options.redisUrl, values: options.values, store: options.store };
  const servers: Partial<Record<Side, ServedSide>> = {};
  try {
    servers.mlforge = await serve("mlforge", serveOptions, options.cpuProfileDirectory);
    servers.bare = await serve("bare", serveOptions, options.cpuProfileDirectory);
    const results: ServerLoadResult[] = [];
    for (const batch of options.batches) {
      // 1024 different entity lists, cycled by every connection; the same bodies on both sides.
      const random = randomIndexes(options.entities, batch * 7919);
      const bodies = Array.from({ length: 1024 }, () =>
        JSON.stringify({ features: READ_FEATURES, entities: Array.from({ length: batch }, () => ({ user_id: userId(random.next().value!) })) }),
      );
      await sameValues(servers.mlforge.url, servers.bare.url, bodies);
      for (const connections of options.connections) {
        const sides: Side[] = ["mlforge", "bare"];
        for (const side of sides) await load(servers[side]!.url, bodies, connections, options.warmupSeconds, options.warmupRequests);
        const figures = Object.fromEntries(sides.map((side) => [side, { latencies: [] as number[], elapsedMs: 0, bytes: 0, cpu: 0, responses: 0, failures: 0, timeouts: 0, runs: [] as LoadSide["runs"] }])) as Record<
          Side,
          { latencies: number[]; elapsedMs: number; bytes: number; cpu: number; responses: number; failures: number; timeouts: number; runs: LoadSide["runs"] }
        >;
        const loads: number[] = [];
        for (let round = 0; round < options.rounds; round++) {
          for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
            const loadAverage = os.loadavg()[0]!;
            loads.push(loadAverage);
            const cpuBefore = await servers[side]!.cpu();
            const run = await load(servers[side]!.url, bodies, connections, options.seconds, options.maxRequests);
            const cpu = (await servers[side]!.cpu()) - cpuBefore;
            const figure = figures[side];
            for (const latency of run.latencies) figure.latencies.push(latency);
            figure.elapsedMs += run.elapsedMs;
            figure.bytes += run.bytes;
            figure.cpu += cpu;
            const responses = run.latencies.length - run.timeouts;
            figure.responses += responses;
            figure.failures += run.failures;
            figure.timeouts += run.timeouts;
            figure.runs.push({ p99: summarize(run.latencies).p99, requestsPerSecond: responses / (run.elapsedMs / 1000), loadAverage });
          }
        }
        const summary = (side: Side): LoadSide => {
          const figure = figures[side];
          const responses = figure.responses;
          return {
            latency: summarize(figure.latencies),
            requestsPerSecond: responses / (figure.elapsedMs / 1000),
            responses,
            cpuMicrosecondsPerRequest: figure.cpu / responses,
            bytesPerResponse: figure.bytes / responses,
            failures: figure.failures,
            timeouts: figure.timeouts,
            runs: figure.runs,
          };
        };
        const row: ServerLoadResult = { batch, connections, mlforge: summary("mlforge"), bare: summary("bare"), loadAverage: [Math.min(...loads), Math.max(...loads)] };
        results.push(row);
      }
    }
    const closed = await Promise.allSettled(Object.values(servers).map((side) => side.close()));
    const failure = closed.find((outcome) => outcome.status === "rejected");
    if (failure !== undefined) throw failure.reason;
    return { servers: results };
  } catch (error) {
    // Whatever failed, no server process is left behind.
    for (const side of Object.values(servers)) side.process.kill();
    throw error;
  }
}

/** The server case, by name (see `cases.ts`). */
export const serverCases = {
  "server-load": serverLoad,
};
