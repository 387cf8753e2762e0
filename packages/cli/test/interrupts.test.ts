// Ctrl-C (SIGINT) and SIGTERM sent to the built `mlforge` binary at seeded points of `build` (into a
// LocalStore, and into an S3Store through an IAM gateway in front of s3rver), `training-data` and
// `sync-online` (LocalOnlineStore). Afterwards: the exit code; no stray file in the store, beside
// --out or in the process's temp directory; no incomplete multipart upload in the bucket
// (ListMultipartUploads); every feature whole, with the values of a build that finished, its
// metadata document describing its data; the online store serving whole syncs.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Definitions, feature, type Feature, type OfflineStore, type OnlineStore } from "@mlforge/core";
import { dataKey } from "@mlforge/core/store-kit";
import { LocalOnlineStore } from "@mlforge/online-local";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "@mlforge/s3-test-server";
import { LocalStore } from "@mlforge/store-local";
import { S3Store } from "@mlforge/store-s3";
import { literal, query } from "@mlforge/test-support";
import { IamGateway, type IamPolicy } from "../../store-s3/test/support/iam-gateway";
import { FULL } from "../../store-s3/test/support/policies";

const packages = path.resolve(__dirname, "../..");
const bin = path.join(packages, "cli", "dist", "bin.js");
const dist = (name: string) => pathToFileURL(path.join(packages, name, "dist", "index.js")).href;

/** Replays other interrupt points: `MLFORGE_INTERRUPT_SEED=5 npx jest packages/cli/test/interrupts.test.ts`. */
const SEED = Number(process.env.MLFORGE_INTERRUPT_SEED ?? 13);
/** Users of the S3 case: each feature is about 12 MB of Parquet, uploaded in three parts of 5 MiB. */
const LARGE_ROWS = 300_000;
/** Users elsewhere: enough for a build or sync to take a while. */
const SMALL_ROWS = 40_000;
const NAMES = ["alpha", "beta", "gamma", "delta"] as const;
const MIB = 1024 * 1024;
/** A signalled command must have ended within this time (it usually takes well under a second). */
const STOPS_WITHIN_MS = 10_000;
// The bucket of storage-backends.md, so that its policies apply word for word.
const BUCKET = "mlforge-features";

jest.setTimeout(120_000);

/** A small deterministic generator (mulberry32), so that a seed names the interrupt points. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = seededRandom(SEED);
/** A whole number in [low, high], from the seed. */
const pick = (low: number, high: number) => low + Math.floor(random() * (high - low + 1));

/** The SQL of feature `name` at build `version`: every version has other values in every row. */
function featureSql(name: string, version: number, users: string): string {
  return `SELECT user_id, md5(concat(user_id, ':${name}:${version}')) AS ${name}_code, (user_id * ${version} + ${NAMES.indexOf(name as never)})::DOUBLE AS ${name}_score FROM ${users}`;
}

/** The definitions the CLI loads: four features of the users file at version MLFORGE_TEST_VERSION, into a LocalStore or (with MLFORGE_TEST_ENDPOINT) an S3Store, with a LocalOnlineStore when MLFORGE_TEST_ONLINE is set. */
const DEFINITIONS = `
import { Definitions, feature } from ${JSON.stringify(dist("core"))};
import { LocalStore } from ${JSON.stringify(dist("store-local"))};
import { S3Store } from ${JSON.stringify(dist("store-s3"))};
import { LocalOnlineStore } from ${JSON.stringify(dist("online-local"))};
const env = process.env;
const version = Number(env.MLFORGE_TEST_VERSION);
const names = ${JSON.stringify(NAMES)};
const features = names.map((name, index) => feature({ name, keys: ["user_id"], source: env.MLFORGE_TEST_SOURCE }, (users) =>
  \`SELECT user_id, md5(concat(user_id, ':\${name}:\${version}')) AS \${name}_code, (user_id * \${version} + \${index})::DOUBLE AS \${name}_score FROM \${users}\`));
const offlineStore = env.MLFORGE_TEST_ENDPOINT === undefined
  ? new LocalStore(env.MLFORGE_TEST_STORE)
  : new S3Store({ bucket: env.MLFORGE_TEST_BUCKET, prefix: env.MLFORGE_TEST_PREFIX, endpoint: env.MLFORGE_TEST_ENDPOINT, partSize: ${5 * MIB}, queueSize: 1, cacheDirectory: env.MLFORGE_TEST_CACHE });
export const defs = new Definitions({ name: "interrupts", features, offlineStore, ...(env.MLFORGE_TEST_ONLINE === undefined ? {} : { onlineStore: new LocalOnlineStore(env.MLFORGE_TEST_ONLINE) }) });
// Tells the test that the command is about to start.
process.stderr.write("DEFINITIONS LOADED\\n");
`;

/** A users file the features read, and its rows. */
interface Users {
  file: string;
  rows: number;
}

let workDir: string;
let small: Users;
let large: Users;
/** A LocalStore with version 1 of every feature of `small`, built in this process; cases work on copies. */
let base: string;
let s3: TestS3Server;
let gateway: IamGateway;

beforeAll(async () => {
  if (!existsSync(bin)) throw new Error(`${bin} is missing. Build first: npx turbo run build`);
  workDir = await mkdtemp(path.join(tmpdir(), "mlforge-cli-interrupts-"));
  small = { file: path.join(workDir, "users-small.parquet"), rows: SMALL_ROWS };
  large = { file: path.join(workDir, "users-large.parquet"), rows: LARGE_ROWS };
  for (const users of [small, large]) await query(`COPY (SELECT range AS user_id FROM range(${users.rows})) TO ${literal(users.file)} (FORMAT parquet)`);
  await writeFile(path.join(workDir, "definitions.mjs"), DEFINITIONS);
  s3 = await startS3Server([BUCKET]);
  gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  base = path.join(workDir, "base-store");
  await usingDefinitions(small, 1, { offlineStore: new LocalStore(base) }, (definitions) => definitions.build());
});

afterAll(async () => {
  await gateway?.close();
  await s3?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A running `mlforge`: its stderr so far, and a way to wait for a line or for its end. */
interface Running {
  stderr(): string;
  /** Resolves once stderr holds `text` (rejects if the process ends first). */
  waitFor(text: string | RegExp): Promise<void>;
  kill(signal: NodeJS.Signals): void;
  /** When the process ended, and how. */
  ended: Promise<Outcome>;
}

/** A case's own directories: its working directory and its TMPDIR (empty unless something was left behind). */
async function caseDirectories(name: string): Promise<{ cwd: string; temp: string }> {
  const cwd = path.join(workDir, name);
  const temp = path.join(cwd, "tmp");
  await mkdir(temp, { recursive: true });
  return { cwd, temp };
}

/** Starts `node dist/bin.js ...args --target definitions.mjs` with the fixture's environment (MLFORGE_TEST_SOURCE, _VERSION, _STORE… in `environment`). */
function startCli(args: string[], environment: Record<string, string>, directories: { cwd: string; temp: string }): Running {
  const child = spawn(process.execPath, [bin, ...args, "--target", path.join(workDir, "definitions.mjs")], {
    cwd: directories.cwd,
    env: {
      ...process.env,
      JITI_FS_CACHE: "false",
      // Staged uploads, downloads and temporary directories go here, so that leftovers show.
      TMPDIR: directories.temp,
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
      ...environment,
    },
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 90_000,
    killSignal: "SIGKILL",
  });
  let stdout = "";
  let stderr = "";
  const waiters: Array<{ text: string | RegExp; resolve: () => void; reject: (error: Error) => void }> = [];
  const matches = (text: string | RegExp) => (typeof text === "string" ? stderr.includes(text) : text.test(stderr));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    for (const waiter of [...waiters]) {
      if (matches(waiter.text)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const ended = new Promise<Outcome>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      for (const waiter of waiters.splice(0)) waiter.reject(new Error(`mlforge ended (${signal ?? `exit ${code}`}) before printing ${String(waiter.text)}:\n${stderr}\n${stdout}`));
      resolve({ code, signal, stdout, stderr });
    });
  });
  return {
    stderr: () => stderr,
    waitFor: (text) => (matches(text) ? Promise.resolve() : new Promise((resolve, reject) => waiters.push({ text, resolve, reject }))),
    kill: (signal) => child.kill(signal),
    ended,
  };
}

/** Sends `signal` once `point` resolves; resolves to how the process ended and how long after the signal. */
async function interrupt(running: Running, point: Promise<void>, signal: "SIGINT" | "SIGTERM"): Promise<Outcome & { stoppedMs: number }> {
  const early = await Promise.race([point.then(() => undefined), running.ended]);
  if (early !== undefined) throw new Error(`mlforge ended (${early.signal ?? `exit ${early.code}`}) before the interrupt point:\n${early.stderr}\n${early.stdout}`);
  const sent = performance.now();
  running.kill(signal);
  const outcome = await running.ended;
  return { ...outcome, stoppedMs: performance.now() - sent };
}

/** For a point "<n> ms after the definitions loaded": resolves that long after the CLI said so. */
async function afterLoading(running: Running, point: string): Promise<void> {
  await running.waitFor("DEFINITIONS LOADED");
  await new Promise((resolve) => setTimeout(resolve, Number(/^(\d+) ms/.exec(point)![1])));
}

/** Resolves once `condition` holds, checked every 2 ms until `running` ends. */
function until(condition: () => boolean | Promise<boolean>, running: Running): Promise<void> {
  return new Promise((resolve) => {
    let ended = false;
    void running.ended.then(() => (ended = true));
    const check = async () => {
      if (ended) return;
      if (await condition()) resolve();
      else setTimeout(check, 2);
    };
    void check();
  });
}

/** What an interrupted command must report: its exit code and word. */
function expectInterrupted(outcome: Outcome & { stoppedMs: number }, signal: "SIGINT" | "SIGTERM", context: string): void {
  const report = `${context}\n--- stderr\n${outcome.stderr}\n--- stdout\n${outcome.stdout}`;
  expect({ code: outcome.code, signal: outcome.signal, report }).toEqual({ code: signal === "SIGINT" ? 130 : 143, signal: null, report });
  expect(outcome.stderr).toContain(signal === "SIGINT" ? "Interrupted." : "Terminated.");
  expect(outcome.stoppedMs).toBeLessThan(STOPS_WITHIN_MS);
}

/** Feature names whose progress line says they were built (or synced) by the command. */
function finished(stderr: string, verb: "built" | "synced"): string[] {
  return NAMES.filter((name) => new RegExp(`^\\[\\d+/\\d+\\] ${name} ${verb} `, "m").test(stderr));
}

/** Every file under `directory`, as relative paths, sorted. */
async function filesUnder(directory: string): Promise<string[]> {
  const entries = await readdir(directory, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(directory, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** Files a store may hold for `names`: data, metadata documents and kept versions (VERSIONS.md). */
function isLayout(file: string, names: readonly string[]): boolean {
  const match =
    /^([a-z]+)\.parquet$/.exec(file) ?? /^_metadata\/([a-z]+)\.json$/.exec(file) ?? /^_versions\/([a-z]+)\/[A-Za-z0-9_.-]+\.(?:parquet|json)$/.exec(file);
  return match !== null && names.includes(match[1]!);
}

/** The fixture's features in this process: what the CLI builds from `users` at `version`. */
function testFeatures(users: Users, version: number): Feature[] {
  return NAMES.map((name) => feature({ name, keys: ["user_id"], source: users.file }, (source) => featureSql(name, version, source)));
}

/** Runs `work` with definitions of the fixture's features in this process, then closes them. */
async function usingDefinitions<T>(
  users: Users,
  version: number,
  stores: { offlineStore: OfflineStore; onlineStore?: OnlineStore },
  work: (definitions: Definitions) => Promise<T>,
): Promise<T> {
  const definitions = new Definitions({ name: "interrupts", features: testFeatures(users, version), ...stores });
  try {
    return await work(definitions);
  } finally {
    await definitions.close();
  }
}

/** The count and an order-independent digest of the rows of feature `name` that `reader` (a relation) holds. */
async function digest(reader: string, name: string): Promise<string> {
  const [row] = await query(`SELECT count(*)::BIGINT AS n, sum(hash(user_id, ${name}_code, ${name}_score))::HUGEINT AS digest FROM ${reader}`);
  return `${String(row!.n)}:${String(row!.digest)}`;
}

/** The build version whose values the Parquet file of feature `name` holds, every row of it; undefined when none (a torn or foreign file). */
async function versionOf(file: string, name: string, users: Users): Promise<number | undefined> {
  // The first user's value names the candidate; the digest of every row confirms it.
  const [first] = await query(`SELECT ${name}_code AS code FROM read_parquet(${literal(file)}) WHERE user_id = 0`);
  const version = [...Array(10).keys()].map((index) => index + 1).find((candidate) => first?.code === md5(`0:${name}:${candidate}`));
  if (version === undefined) return undefined;
  const expected = await digest(`(${featureSql(name, version, `read_parquet(${literal(users.file)})`)})`, name);
  return (await digest(`read_parquet(${literal(file)})`, name)) === expected ? version : undefined;
}

/**
 * Checks features `names` of `definitions`: each reads; its metadata document describes its data
 * file (same buildId, all rows); its rows are all those of one build. Returns each one's version.
 */
async function storedVersions(definitions: Definitions, names: readonly string[], users: Users): Promise<Record<string, number>> {
  const found: Record<string, number> = {};
  for (const name of names) {
    const frame = await definitions.read(name);
    try {
      const document = await definitions.metadata(name);
      expect({ name, document: document?.buildId, rows: document?.rows }).toEqual({ name, document: frame.metadata!.buildId, rows: users.rows });
    } finally {
      await frame.close();
    }
    const file = await definitions.offlineStore.getFile(dataKey(name));
    const version = await versionOf(file!, name, users);
    expect({ name, version: version === undefined ? "not one build's rows" : "one build's rows" }).toEqual({ name, version: "one build's rows" });
    found[name] = version!;
  }
  return found;
}

describe("mlforge build into a LocalStore", () => {
  let store: string;

  beforeAll(async () => {
    store = path.join(workDir, "local-store");
    await cp(base, store, { recursive: true });
  });

  const cases = [
    { signal: "SIGINT" as const, point: `after the progress line of feature ${pick(1, 3)}`, version: 2 },
    { signal: "SIGTERM" as const, point: `${pick(0, 300)} ms after the definitions loaded`, version: 3 },
  ];
  test.each(cases)(`seed ${SEED}: $signal $point, during a forced build`, async ({ signal, point, version }) => {
    const directories = await caseDirectories(`local-${version}`);
    const environment = { MLFORGE_TEST_SOURCE: small.file, MLFORGE_TEST_STORE: store, MLFORGE_TEST_VERSION: String(version) };
    const running = startCli(["build", "--force"], environment, directories);
    const count = /progress line of feature (\d)/.exec(point);
    const outcome = await interrupt(running, count ? running.waitFor(new RegExp(`^\\[${count[1]}/4\\] `, "m")) : afterLoading(running, point), signal);
    expectInterrupted(outcome, signal, point);

    // Nothing but the layout in the store, nothing in the temp directory.
    expect((await filesUnder(store)).filter((file) => !isLayout(file, NAMES))).toEqual([]);
    expect(await filesUnder(directories.temp)).toEqual([]);
    // Every feature whole: those the build reported built hold its rows, the others an earlier build's.
    const versions = await usingDefinitions(small, version, { offlineStore: new LocalStore(store) }, (definitions) => storedVersions(definitions, NAMES, small));
    for (const name of NAMES) expect({ name, version: versions[name]! <= version }).toEqual({ name, version: true });
    for (const name of finished(outcome.stderr, "built")) expect({ name, version: versions[name] }).toEqual({ name, version });
    expect(Object.values(versions)).not.toEqual(NAMES.map(() => version));
  });
});

/** storage-backends.md's full policy (which grants no s3:AbortMultipartUpload), allowing the abort of incomplete multipart uploads. */
const FULL_WITH_ABORT: IamPolicy = {
  Statement: [{ ...FULL.Statement[0]!, Action: [...(FULL.Statement[0]!.Action as string[]), "s3:AbortMultipartUpload"] }],
};

describe("mlforge build into an S3Store (multipart uploads)", () => {
  const prefix = "interrupts/features";
  const built = ["alpha", "beta"] as const;
  /** The store as the CLI sees it: through the gateway, parts of 5 MiB one at a time. */
  const cliStore = (cacheDirectory: string) =>
    new S3Store({ bucket: BUCKET, prefix, endpoint: gateway.endpoint, credentials: S3RVER_CREDENTIALS, partSize: 5 * MIB, queueSize: 1, cacheDirectory });
  /** The store as the test sees it: straight to s3rver. */
  const readerStore = () => new S3Store({ bucket: BUCKET, prefix, endpoint: s3.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(workDir, "s3-reader-cache") });
  /** The object keys of feature `name`'s data: the current one and its kept versions (the build uploads a version, then copies it). */
  const dataKeys = (name: string) => new RegExp(`^${prefix}/(?:_versions/${name}/[^/]+|${name})\\.parquet$`);
  const requestsOf = (operation: string, name: string) =>
    gateway.requests.filter((request) => request.operation === operation && dataKeys(name).test(request.resource.slice(`arn:aws:s3:::${BUCKET}/`.length)));

  beforeAll(async () => {
    gateway.policy = FULL_WITH_ABORT;
    gateway.clear();
    await usingDefinitions(large, 1, { offlineStore: cliStore(path.join(workDir, "s3-setup-cache")) }, (definitions) => definitions.build({ features: [...built] }));
    // The data files are uploaded in parts: what the interrupts below cut.
    expect(requestsOf("UploadPart", "alpha").length).toBe(3);
    expect(requestsOf("CompleteMultipartUpload", "alpha").length).toBe(1);
  });

  const cases = [
    { signal: "SIGINT" as const, policy: "abort allowed", at: ["CreateMultipartUpload", "alpha", 1] as const, version: 2 },
    // Parts 1 or 2 of 3: a signal sent as the last part starts may come after it, when the upload is completing.
    { signal: "SIGTERM" as const, policy: "abort allowed", at: ["UploadPart", "alpha", pick(1, 2)] as const, version: 3 },
    { signal: "SIGINT" as const, policy: "abort denied", at: ["UploadPart", "beta", pick(1, 2)] as const, version: 4 },
  ];
  test.each(cases)(`seed ${SEED}: $signal at $at.0 #$at.2 of $at.1's data, $policy`, async ({ signal, policy, at, version }) => {
    const [operation, name, count] = at;
    const directories = await caseDirectories(`s3-${version}`);
    gateway.policy = policy === "abort allowed" ? FULL_WITH_ABORT : FULL;
    gateway.clear();
    const environment = {
      MLFORGE_TEST_SOURCE: large.file,
      MLFORGE_TEST_VERSION: String(version),
      MLFORGE_TEST_ENDPOINT: gateway.endpoint,
      MLFORGE_TEST_BUCKET: BUCKET,
      MLFORGE_TEST_PREFIX: prefix,
      MLFORGE_TEST_CACHE: path.join(directories.cwd, "cache"),
    };
    const running = startCli(["build", "--force", "--features", built.join(",")], environment, directories);
    const outcome = await interrupt(running, until(() => requestsOf(operation, name).length >= count, running), signal);
    expectInterrupted(outcome, signal, `${signal} at ${operation} #${count} of ${name}; requests: ${gateway.operations().join(" ")}`);

    // The upload was cut: never completed.
    expect(requestsOf("CompleteMultipartUpload", name)).toEqual([]);
    // Aborted (more than one request only when the SDK retried a failed attempt).
    const aborts = requestsOf("AbortMultipartUpload", name).map((request) => (request.allowed ? "allowed" : "denied"));
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(new Set(aborts)).toEqual(new Set([policy === "abort allowed" ? "allowed" : "denied"]));
    const incomplete = await s3.incompleteUploads(BUCKET, prefix);
    if (policy === "abort allowed") {
      expect(incomplete).toEqual([]);
    } else {
      // Said on stderr, and left for the lifecycle rule.
      const said = new RegExp(
        `^  ${name}: The upload to 's3://${BUCKET}/(\\S+)' was stopped \\(Interrupted by Ctrl-C\\.\\), and its incomplete multipart upload could not be aborted \\(AccessDenied\\): ` +
          "it was left for the bucket's lifecycle rule that aborts incomplete multipart uploads;",
        "m",
      ).exec(outcome.stderr);
      expect(said?.[1]).toMatch(dataKeys(name));
      expect(incomplete).toEqual([{ key: said?.[1], uploadId: expect.any(String) }]);
      // Gone, as the lifecycle rule would do, so that later cases see only what they cause.
      await s3.abortIncompleteUploads(BUCKET, prefix);
    }

    // The bucket holds the layout alone; the staged upload is gone from the temp directory.
    const keys = await s3.keys(BUCKET, prefix);
    expect(keys.map((key) => key.slice(prefix.length + 1)).filter((file) => !isLayout(file, built))).toEqual([]);
    expect(await filesUnder(directories.temp)).toEqual([]);
    // Every feature whole; the one cut holds an earlier build.
    const versions = await usingDefinitions(large, version, { offlineStore: readerStore() }, (definitions) => storedVersions(definitions, built, large));
    expect(versions[name]).toBeLessThan(version);
    for (const done of finished(outcome.stderr, "built")) expect({ name: done, version: versions[done] }).toEqual({ name: done, version });
  });
});

describe("mlforge training-data", () => {
  let entities: string;

  beforeAll(async () => {
    entities = path.join(workDir, "entities.parquet");
    // Many entity rows per user: a join that takes a while to write.
    await query(`COPY (SELECT range % ${small.rows} AS user_id FROM range(${30 * small.rows})) TO ${literal(entities)} (FORMAT parquet)`);
  });

  const cases = [
    { signal: "SIGINT" as const, point: "when the output's staged file appears", previous: true },
    { signal: "SIGTERM" as const, point: `${pick(0, 200)} ms after the definitions loaded`, previous: false },
  ];
  test.each(cases)(`seed ${SEED}: $signal $point (a previous --out file: $previous)`, async ({ signal, point, previous }) => {
    const directories = await caseDirectories(`training-${signal}`);
    const outDirectory = path.join(directories.cwd, "out");
    await mkdir(outDirectory);
    const out = path.join(outDirectory, "train.parquet");
    if (previous) await writeFile(out, "the previous training set");
    const storeBefore = await filesUnder(base);

    const environment = { MLFORGE_TEST_SOURCE: small.file, MLFORGE_TEST_STORE: base, MLFORGE_TEST_VERSION: "1" };
    const running = startCli(["training-data", "--features", "alpha,beta", "--entities", entities, "--out", out], environment, directories);
    const reached = point.startsWith("when") ? until(async () => (await readdir(outDirectory)).some((entry) => entry !== "train.parquet"), running) : afterLoading(running, point);
    const outcome = await interrupt(running, reached, signal);
    expectInterrupted(outcome, signal, point);

    // No partial output: the previous file as it was, or none; nothing staged beside it.
    expect(await readdir(outDirectory)).toEqual(previous ? ["train.parquet"] : []);
    if (previous) expect(await readFile(out, "utf8")).toBe("the previous training set");
    expect(await filesUnder(directories.temp)).toEqual([]);
    expect(await filesUnder(directories.cwd)).toEqual(previous ? ["out/train.parquet"] : []);
    expect(await filesUnder(base)).toEqual(storeBefore);
  });
});

describe("mlforge sync-online into a LocalOnlineStore", () => {
  const synced = ["alpha", "beta"] as const;
  let store: string;
  let online: string;

  beforeAll(async () => {
    store = path.join(workDir, "online-offline-store");
    online = path.join(workDir, "online-store");
    await cp(base, store, { recursive: true });
    // Version 1 is served online; version 2 is built, not yet synced.
    await usingDefinitions(small, 1, { offlineStore: new LocalStore(store), onlineStore: new LocalOnlineStore(online) }, (definitions) => definitions.syncOnline({ features: [...synced] }));
    await usingDefinitions(small, 2, { offlineStore: new LocalStore(store) }, (definitions) => definitions.build({ features: [...synced] }));
  });

  const cases = [
    { signal: "SIGINT" as const, point: "after the progress line of alpha" },
    { signal: "SIGTERM" as const, point: `${pick(0, 300)} ms after the definitions loaded` },
  ];
  test.each(cases)(`seed ${SEED}: $signal $point`, async ({ signal, point }) => {
    const directories = await caseDirectories(`online-${signal}`);
    // A copy of the online store serving version 1, for this case alone.
    const copy = path.join(directories.cwd, "online");
    await cp(online, copy, { recursive: true });
    const environment = { MLFORGE_TEST_SOURCE: small.file, MLFORGE_TEST_STORE: store, MLFORGE_TEST_ONLINE: copy, MLFORGE_TEST_VERSION: "2" };
    const running = startCli(["sync-online", "--features", synced.join(",")], environment, directories);
    const outcome = await interrupt(running, point.includes("alpha") ? running.waitFor(/^\[1\/2\] alpha /m) : afterLoading(running, point), signal);
    expectInterrupted(outcome, signal, point);
    expect(await filesUnder(directories.temp)).toEqual([]);

    const onlineStore = new LocalOnlineStore(copy);
    await usingDefinitions(small, 2, { offlineStore: new LocalStore(store), onlineStore }, async (definitions) => {
      const done = finished(outcome.stderr, "synced");
      for (const name of synced) {
        // Readers get one sync whole: every sampled entity from the same build, the new one if its sync finished.
        const sample = [0, 1, 12_345, small.rows - 1];
        const rows = await definitions.getOnlineFeatures({ features: [name], entities: sample.map((user_id) => ({ user_id })) });
        const versions = rows.map((row, index) => [1, 2].find((version) => row[`${name}_code`] === md5(`${sample[index]}:${name}:${version}`)));
        expect({ name, versions }).toEqual({ name, versions: sample.map(() => (done.includes(name) ? 2 : versions[0])) });
        expect([1, 2]).toContain(versions[0]);
        // The interrupted sync left no namespace behind: the pointer's, and the one it replaced.
        const [[text]] = (await onlineStore.get([{ namespace: "mlforge.pointers", keys: [name] }])) as [[string]];
        const pointer = JSON.parse(text) as { namespace: string; previous?: string };
        expect((await onlineStore.listNamespaces(`${name}@`)).sort()).toEqual([pointer.namespace, ...(pointer.previous === undefined ? [] : [pointer.previous])].sort());
        expect(await onlineStore.count(pointer.namespace)).toBe(small.rows);
      }
      expect(done).not.toEqual([...synced]);
    });
  });
});

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}
