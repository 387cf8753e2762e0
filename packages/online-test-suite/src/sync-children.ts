// Starting sync children (sync-child.ts), killing them, and seeded kill times, for the crash and concurrency tests.
import { spawn } from "node:child_process";
import path from "node:path";
import type { OnlineStoreDescription } from "./online-store-description";

// The child beside this module: built JavaScript in `dist` (sync-child.js or .cjs, as this module
// is), or, when this module runs from source (under Jest), sync-child.ts through the SWC loader.
const EXTENSION = path.extname(__filename);
const CHILD = path.join(__dirname, `sync-child${EXTENSION}`);
const ARGUMENTS = EXTENSION === ".ts" ? [path.join(__dirname, "register-ts.cjs"), CHILD] : [CHILD];

/** What a sync child syncs, and where. */
export interface SyncChildConfig {
  /** The online store to sync into, as the child constructs it. */
  onlineStore: OnlineStoreDescription;
  /** Directory of the offline `LocalStore` holding the built feature. */
  offlineStore: string;
  /** The CSV file written from `numberedSourceCsv`. */
  source: string;
  /** @default true */
  force?: boolean;
  /** @default 60000 */
  graceMs?: number;
  /** @default 250 */
  batchRows?: number;
}

/** How a child ended. */
export interface SyncOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running sync child. */
export interface SyncChild {
  pid: number;
  /** Resolves once the child has loaded everything and starts syncing. */
  ready: Promise<void>;
  exited: Promise<SyncOutcome>;
  kill(): void;
}

/** Starts a sync child: `node sync-child.js <config>`. */
export function startSync(config: SyncChildConfig, environment: NodeJS.ProcessEnv = process.env): SyncChild {
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
  const exited = new Promise<SyncOutcome>((resolve, reject) => {
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

/**
 * `promise`, or a rejection naming `what` once `milliseconds` pass without it settling: a step
 * that hangs (a commit that never settles, a child that never exits) fails its test with a clear
 * message instead of stalling it until Jest's timeout, or forever.
 */
export function within<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${milliseconds / 1000} s`)), milliseconds);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
