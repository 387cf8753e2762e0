import { createHash, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  type CompleteMultipartUploadCommandOutput,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { StoreAccessError, type OfflineStore, type PutFileOptions, type StoredObject } from "@mlforge/core";
import { assertStoreKey, checkOptions } from "@mlforge/core/store-kit";
import { createS3Client } from "./s3-client";
import { errorSecrets, isAccessDenied, isNotFound, s3AccessError, s3ErrorCode, type S3Action } from "./s3-access-error";

/** Options of `new S3Store()`. */
export interface S3StoreOptions {
  /** Name of the bucket holding the features (without `s3://`). */
  bucket: string;
  /** Key prefix inside the bucket; `"prod/features"`, `"prod/features/"` and `"/prod/features"` are the same. @default "" (the bucket root) */
  prefix?: string;
  /** AWS region of the bucket. @default the SDK's chain (AWS_REGION, the profile's region); "us-east-1" when `endpoint` is set */
  region?: string;
  /** URL of an S3-compatible server (MinIO, Cloudflare R2, Ceph…). @default Amazon S3 */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key` rather than `bucket.endpoint/key`. @default true when `endpoint` is set, else false */
  forcePathStyle?: boolean;
  /** Static credentials or a credential provider. @default the SDK's chain (environment, AWS_PROFILE, SSO, container and instance roles) */
  credentials?: S3ClientConfig["credentials"];
  /** A ready S3Client; then `region`, `endpoint`, `forcePathStyle` and `credentials` must not be given. @default a client built from the options above */
  client?: S3Client;
  /** Size of each part of a multipart upload, in bytes; files larger than this are uploaded in parts. Minimum 5 MiB. @default 8 MiB */
  partSize?: number;
  /** How many parts upload at once (memory use is about partSize × queueSize). @default 4 */
  queueSize?: number;
  /** Directory where downloaded features are cached, keyed by their ETag. @default `<os.tmpdir()>/mlforge-s3-cache` */
  cacheDirectory?: string;
}

const MIB = 1024 * 1024;
const KNOWN_OPTIONS = {
  bucket: "any",
  prefix: { kind: "string", example: '"prod/features"' },
  region: "any",
  endpoint: "any",
  forcePathStyle: "any",
  credentials: "any",
  client: "any",
  partSize: "any",
  queueSize: "any",
  cacheDirectory: "any",
} as const;
const CLIENT_OPTIONS = ["region", "endpoint", "forcePathStyle", "credentials"] as const;
/** Total time allowed for one small request (a listing, a metadata document, a HEAD) before it is retried. */
const SMALL_REQUEST_TIMEOUT_MS = 10_000;
const SMALL = { requestTimeout: SMALL_REQUEST_TIMEOUT_MS };
const PARQUET_TYPE = "application/vnd.apache.parquet";

function invalid(message: string): StoreAccessError {
  return new StoreAccessError(message, { store: "S3Store", operation: "constructor" });
}

function validate(options: S3StoreOptions): void {
  // A StoreAccessError, as before InvalidOptionError existed; it still passes InvalidOptionError.isInstance.
  checkOptions("S3Store", options, KNOWN_OPTIONS, {
    example: 'new S3Store({ bucket: "mlforge-features", prefix: "prod/features" })',
    errorClass: StoreAccessError,
  });
  const { bucket } = options;
  if (typeof bucket !== "string" || bucket.trim() === "") {
    throw invalid('S3Store needs a bucket, for example new S3Store({ bucket: "mlforge-features" }).');
  }
  if (bucket.startsWith("s3://") || bucket.includes("/")) {
    throw invalid(`S3Store option bucket is '${bucket}'; give the bare bucket name and put the path in 'prefix', for example { bucket: "mlforge-features", prefix: "prod/features" }.`);
  }
  if (options.client !== undefined) {
    const clashing = CLIENT_OPTIONS.filter((key) => options[key] !== undefined);
    if (clashing.length > 0) {
      throw invalid(`S3Store got a ready 'client' and also ${clashing.map((key) => `'${key}'`).join(", ")}. Configure those on the S3Client, or drop 'client'.`);
    }
    if (typeof options.client.send !== "function") throw invalid("S3Store option client must be an S3Client from @aws-sdk/client-s3.");
  }
  if (typeof options.prefix === "string") {
    const dots = options.prefix.split("/").find((part) => part === "." || part === "..");
    if (dots !== undefined) {
      throw invalid(
        `S3Store option prefix '${options.prefix}' has a '${dots}' segment, which some S3-compatible servers resolve to another path. Give a prefix without '.' or '..' segments, for example "prod/features".`,
      );
    }
  }
  if (options.partSize !== undefined && !(Number.isInteger(options.partSize) && options.partSize >= 5 * MIB)) {
    throw invalid(`S3Store option partSize is ${String(options.partSize)}; S3 needs parts of at least 5 MiB (${5 * MIB} bytes).`);
  }
  if (options.queueSize !== undefined && !(Number.isInteger(options.queueSize) && options.queueSize >= 1)) {
    throw invalid(`S3Store option queueSize is ${String(options.queueSize)}; give a whole number of at least 1.`);
  }
  if (options.cacheDirectory !== undefined && (typeof options.cacheDirectory !== "string" || options.cacheDirectory === "")) {
    throw invalid("S3Store option cacheDirectory must be a directory path.");
  }
}

/** `"/prod//features/"` → `"prod/features"`. */
function normalizePrefix(prefix: string): string {
  return prefix.split("/").filter((part) => part !== "").join("/");
}

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Staged files this store writes in the OS temp directory: `mlforge-s3-<stem>-<pid>-<random>.<extension>` for a key ending `<stem>.<extension>`. */
const STAGED_FILE = /^mlforge-s3-.+-(\d+)-[0-9a-f]{12}\.[A-Za-z0-9]+$/;
/** Downloads in flight in the cache directory: `<key hash>-<etag>-<key's last segment>.<pid>.<random>.tmp`. */
const DOWNLOAD_FILE = /^[0-9a-f]{16}-[A-Za-z0-9-]*-[A-Za-z0-9_.@-]+\.(\d+)\.[0-9a-f]+\.tmp$/;

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return errorCode(error) === "EPERM";
  }
}

/** Removes the files in `directory` that `pattern` (whose first group is a process id) names and whose process is gone; best effort. */
async function removeFilesOfDeadProcesses(directory: string, pattern: RegExp): Promise<void> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  await Promise.all(
    entries.map(async (entry) => {
      const pid = Number(pattern.exec(entry)?.[1] ?? Number.NaN);
      if (Number.isInteger(pid) && pid !== process.pid && !processIsAlive(pid)) await rm(path.join(directory, entry), { force: true }).catch(() => undefined);
    }),
  );
}

/** A short description of an abort reason, for a message. */
function errorMessageOf(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}

/**
 * The requests of one `Upload`, sent through the store's client and watched: data requests
 * (UploadPart, PutObject) can be cut off, while CreateMultipartUpload and CompleteMultipartUpload
 * always run to their answer, so that the store knows the upload id to abort and whether the
 * object was published after all.
 */
class UploadRequests {
  /** The client to give `Upload`: the store's, with `send` watched. */
  readonly client: S3Client;
  /** The id CreateMultipartUpload answered, once it did. */
  uploadId: string | undefined;
  /** CompleteMultipartUpload's answer, once it succeeded. */
  completed: CompleteMultipartUploadCommandOutput | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private readonly cutter = new AbortController();

  constructor(client: S3Client) {
    const send = (command: unknown, options?: Record<string, unknown>): Promise<unknown> => {
      const cuttable = command instanceof UploadPartCommand || command instanceof PutObjectCommand;
      const request = (client.send as (command: unknown, options?: Record<string, unknown>) => Promise<unknown>)(
        command,
        cuttable ? { ...options, abortSignal: this.cutter.signal } : options,
      );
      const watched = request.then(
        (output) => {
          if (command instanceof CreateMultipartUploadCommand) this.uploadId = (output as { UploadId?: string }).UploadId;
          if (command instanceof CompleteMultipartUploadCommand) this.completed = output as CompleteMultipartUploadCommandOutput;
        },
        () => undefined,
      );
      this.running.add(watched);
      void watched.then(() => this.running.delete(watched));
      return request;
    };
    this.client = Object.create(client, { send: { value: send } }) as S3Client;
  }

  /** Cuts off the data requests being sent, and any sent later. */
  cut(): void {
    this.cutter.abort();
  }

  /** Resolves once no request of the upload is running. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

/**
 * An offline store in an Amazon S3 bucket or on any S3-compatible server: each key is an object
 * under `s3://<bucket>/<prefix>/` (core's layout: `<feature>.parquet`, `_metadata/<feature>.json`). Uploads stream
 * from disk (multipart above `partSize`) and S3 publishes each object whole, so a reader never
 * sees a partial feature. Reads download into a local cache keyed by the object's ETag.
 * Needs s3:ListBucket plus s3:PutObject to build and s3:GetObject to read; s3:GetObject also lets
 * `copy` (kept versions, rollback) copy server-side, and s3:DeleteObject lets retention remove old
 * versions (see the README's IAM policies).
 */
export class S3Store implements OfflineStore {
  /** `s3://<bucket>/<prefix>`. */
  readonly location: string;
  /** Reading a feature downloads it (into a cache keyed by ETag). */
  readonly capabilities = Object.freeze({ servesFilesInPlace: false });
  /** The bucket name. */
  readonly bucket: string;
  /** The normalised prefix, without leading or trailing slash ("" for the bucket root). */
  readonly prefix: string;
  /** The S3 client every request goes through. */
  readonly client: S3Client;
  private readonly keyPrefix: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly cacheDirectory: string;
  private readonly endpoint: string | undefined;
  private readonly credentialSource: "option" | "client" | "chain";
  private checked: Promise<void> | undefined;
  private readonly ownsClient: boolean;

  constructor(options: S3StoreOptions) {
    validate(options);
    this.bucket = options.bucket;
    this.prefix = normalizePrefix(options.prefix ?? "");
    this.keyPrefix = this.prefix === "" ? "" : `${this.prefix}/`;
    this.location = `s3://${this.bucket}${this.prefix === "" ? "" : `/${this.prefix}`}`;
    this.partSize = options.partSize ?? 8 * MIB;
    this.queueSize = options.queueSize ?? 4;
    this.endpoint = options.endpoint;
    this.credentialSource = options.client !== undefined ? "client" : options.credentials !== undefined ? "option" : "chain";
    this.client = options.client ?? createS3Client(options);
    this.ownsClient = options.client === undefined;
    const scope = createHash("sha256").update(`${options.endpoint ?? "aws"}\n${this.bucket}\n${this.prefix}`).digest("hex").slice(0, 12);
    this.cacheDirectory = path.join(path.resolve(options.cacheDirectory ?? path.join(tmpdir(), "mlforge-s3-cache")), `${this.bucket}-${scope}`);
  }

  /** The object key of store key `key`. */
  private objectKey(key: string): string {
    assertStoreKey(key);
    return `${this.keyPrefix}${key}`;
  }

  private uriOf(objectKey: string): string {
    return `s3://${this.bucket}/${objectKey}`;
  }

  /** How errors name this store: its location, never its credentials. */
  private get description(): string {
    return `S3Store ${this.location}`;
  }

  private async region(): Promise<string | undefined> {
    try {
      return await this.client.config.region();
    } catch {
      return undefined;
    }
  }

  /** Wraps a failed request of `operation` (an OfflineStore method) in a `StoreAccessError` naming the action and the key or prefix. */
  private async fail(operation: string, error: unknown, action: S3Action, about: { key?: string; prefix?: string }, check = false): Promise<StoreAccessError> {
    const region = await this.region();
    return s3AccessError(error, {
      store: this.description,
      operation,
      bucket: this.bucket,
      action,
      ...about,
      endpoint: this.endpoint ?? (this.credentialSource === "client" ? "the S3Client's endpoint" : `Amazon S3 (region ${region ?? "unknown"})`),
      region,
      credentials: this.credentialSource,
      check,
      secrets: await errorSecrets(this.client, error),
    });
  }

  /**
   * Proves access by listing the store's prefix (one key at most): that needs only s3:ListBucket
   * for this prefix, where HeadBucket would need it for the whole bucket. Success is remembered.
   * The first check also removes the local files that killed processes left behind: staged
   * uploads in the OS temp directory and half-downloaded cache files. (A multipart upload cut off
   * by a kill stays incomplete in the bucket, invisible; a lifecycle rule that aborts incomplete
   * multipart uploads removes its parts.)
   */
  async check(): Promise<void> {
    this.checked ??= Promise.all([this.probe(), this.removeLeftovers()]).then(
      () => undefined,
      (error: unknown) => {
        this.checked = undefined;
        throw error;
      },
    );
    return this.checked;
  }

  private async removeLeftovers(): Promise<void> {
    await removeFilesOfDeadProcesses(tmpdir(), STAGED_FILE);
    await removeFilesOfDeadProcesses(this.cacheDirectory, DOWNLOAD_FILE);
  }

  private async probe(): Promise<void> {
    try {
      await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix || undefined, MaxKeys: 1 }), SMALL);
    } catch (error) {
      throw await this.fail("check", error, "s3:ListBucket", { prefix: this.keyPrefix }, true);
    }
  }

  /** True when `key` exists, asked with s3:ListBucket (a denied GET cannot tell a missing object from a forbidden one). */
  private async exists(key: string): Promise<boolean> {
    const listing = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: key, MaxKeys: 1 }), SMALL);
    return listing.Contents?.some((entry) => entry.Key === key) ?? false;
  }

  /** Handles a failed read of `key`: undefined when the object is missing, else a clear error. */
  private async missingOr(operation: string, error: unknown, key: string): Promise<undefined> {
    if (isNotFound(error)) return undefined;
    // Without s3:GetObject, S3 answers 403 even for a missing object; listing tells the two apart.
    if (isAccessDenied(error) && !(await this.exists(key).catch(() => true))) return undefined;
    throw await this.fail(operation, error, "s3:GetObject", { key });
  }

  async stagingPath(key: string): Promise<string> {
    assertStoreKey(key);
    await this.check();
    const extension = path.extname(key);
    const stem = path.basename(key, extension);
    return path.join(tmpdir(), `mlforge-s3-${stem}-${process.pid}-${randomBytes(6).toString("hex")}${extension || ".bin"}`);
  }

  /**
   * Uploads `file` as `key` (in parts above `partSize`) and removes it. When `options.signal` fires,
   * the upload stops: parts being sent are cut off, the multipart upload is aborted once its
   * requests have settled, and this rejects with the signal's reason; when S3 refuses the abort
   * (no s3:AbortMultipartUpload), with a `StoreAccessError` saying that the incomplete upload was
   * left for the bucket's lifecycle rule.
   */
  async putFile(storeKey: string, file: string, options: PutFileOptions = {}): Promise<StoredObject> {
    const key = this.objectKey(storeKey);
    const { signal } = options;
    let body: ReadStream | undefined;
    try {
      signal?.throwIfAborted();
      await this.check();
      const { size } = await stat(file).catch((error: unknown) => {
        throw new StoreAccessError(`S3Store could not read the staged file '${file}' (${errorCode(error) ?? String(error)}). Write the feature to store.stagingPath() first.`, {
          cause: error,
          store: this.description,
          operation: "putFile",
        });
      });
      signal?.throwIfAborted();
      body = createReadStream(file);
      const requests = new UploadRequests(this.client);
      const upload = new Upload({
        client: requests.client,
        params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType(key) },
        partSize: this.partSize,
        queueSize: this.queueSize,
        // The store aborts a failed multipart upload itself: Upload's own abort would replace the
        // error that made the upload fail with the abort's error when the abort fails too.
        leavePartsOnError: true,
      });
      const stop = () => {
        void upload.abort();
        requests.cut();
      };
      signal?.addEventListener("abort", stop, { once: true });
      let etag: string | undefined;
      try {
        etag = (await upload.done()).ETag;
      } catch (error) {
        if (signal?.aborted) return await this.stopUpload(key, size, requests, signal);
        const failure = await this.fail("putFile", error, "s3:PutObject", { key });
        const leftover = await this.abortUpload(key, upload.uploadId);
        throw leftover === undefined
          ? failure
          : new StoreAccessError(`${failure.message} ${leftover.sentence}`, { cause: error, store: this.description, operation: "putFile", reason: failure.reason });
      } finally {
        signal?.removeEventListener("abort", stop);
      }
      return { uri: this.uriOf(key), bytes: size, ...(etag === undefined ? {} : { etag }) };
    } finally {
      body?.destroy();
      await rm(file, { force: true });
    }
  }

  /**
   * Ends an upload stopped by `signal`: once every request it sent has settled (Upload sends none
   * after the abort), aborts the multipart upload. Resolves when the upload completed anyway;
   * otherwise rejects with the signal's reason, or says what was left when the abort failed.
   */
  private async stopUpload(key: string, size: number, requests: UploadRequests, signal: AbortSignal): Promise<StoredObject> {
    await requests.settled();
    if (requests.completed !== undefined) {
      const etag = requests.completed.ETag;
      return { uri: this.uriOf(key), bytes: size, ...(etag === undefined ? {} : { etag }) };
    }
    const leftover = await this.abortUpload(key, requests.uploadId);
    if (leftover === undefined) throw signal.reason;
    throw new StoreAccessError(
      `The upload to 's3://${this.bucket}/${key}' was stopped (${errorMessageOf(signal.reason)}), and its incomplete multipart upload could not be aborted (${leftover.code}): ` +
        `it was left for the bucket's lifecycle rule that aborts incomplete multipart uploads; its parts stay in the bucket, unseen and billed, until such a rule or an abort removes them. ` +
        `Allow s3:AbortMultipartUpload on arn:aws:s3:::${this.bucket}/${this.keyPrefix}* so that mlforge aborts such uploads, and give the bucket that rule.`,
      { cause: signal.reason, store: this.description, operation: "putFile", ...(leftover.denied ? { reason: "access-denied" as const } : {}) },
    );
  }

  /** Aborts an incomplete multipart upload so that its parts stop costing storage; when that fails, says why and what to do. */
  private async abortUpload(key: string, uploadId: string | undefined): Promise<{ code: string; denied: boolean; sentence: string } | undefined> {
    if (uploadId === undefined) return undefined;
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), SMALL);
      return undefined;
    } catch (error) {
      // Already gone: completed or aborted by someone else.
      if (s3ErrorCode(error) === "NoSuchUpload") return undefined;
      const code = s3ErrorCode(error) ?? String(error);
      return {
        code,
        denied: isAccessDenied(error),
        sentence:
          `Its incomplete multipart upload could not be aborted (${code}): its parts stay in the bucket, unseen, until aborted. ` +
          `Allow s3:AbortMultipartUpload on arn:aws:s3:::${this.bucket}/${key}, or give the bucket a lifecycle rule that aborts incomplete multipart uploads.`,
      };
    }
  }

  async head(storeKey: string): Promise<StoredObject | undefined> {
    const key = this.objectKey(storeKey);
    await this.check();
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }), SMALL);
      return { uri: this.uriOf(key), bytes: head.ContentLength ?? 0, ...(head.ETag === undefined ? {} : { etag: head.ETag }) };
    } catch (error) {
      return this.missingOr("head", error, key);
    }
  }

  async getFile(storeKey: string): Promise<string | undefined> {
    const key = this.objectKey(storeKey);
    const head = await this.head(storeKey);
    if (head === undefined) return undefined;
    if (head.etag !== undefined) {
      const cached = this.cachePath(key, head.etag);
      const info = await stat(cached).catch(() => undefined);
      if (info?.isFile() && info.size === head.bytes) return cached;
    }
    return this.download(key);
  }

  /** `<hash of the object key>-<etag>-<its last segment>`: one hash prefix per key, so other versions of it are easy to find. */
  private cachePath(key: string, etag: string): string {
    return path.join(this.cacheDirectory, `${cacheStem(key)}${etag.replace(/[^A-Za-z0-9-]/g, "")}-${key.split("/").at(-1)!}`);
  }

  /** Downloads `key` beside its cache path and renames it into place, then drops older cached versions of it. */
  private async download(key: string): Promise<string | undefined> {
    await mkdir(this.cacheDirectory, { recursive: true }).catch((error: unknown) => {
      throw new StoreAccessError(`S3Store could not create its cache directory '${this.cacheDirectory}' (${errorCode(error) ?? String(error)}). Pass a writable cacheDirectory.`, {
        cause: error,
        store: this.description,
        operation: "getFeaturePath",
      });
    });
    let response;
    try {
      response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      return this.missingOr("getFile", error, key);
    }
    // Named by the ETag of what was actually downloaded, in case the object changed since the HEAD.
    const target = this.cachePath(key, response.ETag ?? randomBytes(8).toString("hex"));
    const temporary = `${target}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    try {
      await pipeline(response.Body as Readable, createWriteStream(temporary));
      const { size } = await stat(temporary);
      if (response.ContentLength !== undefined && size !== response.ContentLength) {
        throw new StoreAccessError(`S3Store downloaded ${size} of ${response.ContentLength} bytes of 's3://${this.bucket}/${key}'. The connection broke; try again.`, {
          store: this.description,
          operation: "getFeaturePath",
        });
      }
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      if (StoreAccessError.isInstance(error)) throw error;
      throw await this.fail("getFile", error, "s3:GetObject", { key });
    }
    await this.dropStaleVersions(key, target);
    return target;
  }

  private async dropStaleVersions(key: string, current: string): Promise<void> {
    const entries = await readdir(this.cacheDirectory).catch(() => [] as string[]);
    const stem = cacheStem(key);
    // Never a ".tmp" download in flight: those end in ".tmp".
    const stale = entries.filter((entry) => entry.startsWith(stem) && !entry.endsWith(".tmp") && path.join(this.cacheDirectory, entry) !== current);
    await Promise.all(stale.map((entry) => rm(path.join(this.cacheDirectory, entry), { force: true })));
  }

  async getText(storeKey: string): Promise<string | undefined> {
    const key = this.objectKey(storeKey);
    await this.check();
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), SMALL);
      return await response.Body!.transformToString("utf8");
    } catch (error) {
      return this.missingOr("getText", error, key);
    }
  }

  async putText(storeKey: string, text: string): Promise<void> {
    const key = this.objectKey(storeKey);
    await this.check();
    try {
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: text, ContentType: contentType(key) }), SMALL);
    } catch (error) {
      throw await this.fail("putText", error, "s3:PutObject", { key });
    }
  }

  async list(prefix: string): Promise<string[]> {
    await this.check();
    const objectPrefix = `${this.keyPrefix}${prefix}`;
    const keys: string[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: this.bucket, Prefix: objectPrefix })) {
        for (const entry of page.Contents ?? []) {
          if (entry.Key !== undefined) keys.push(entry.Key.slice(this.keyPrefix.length));
        }
      }
    } catch (error) {
      throw await this.fail("list", error, "s3:ListBucket", { prefix: objectPrefix });
    }
    return keys.sort();
  }

  /**
   * A server-side copy (CopyObject: no bytes pass through this machine), which needs s3:GetObject
   * on `from` and s3:PutObject on `to`. The source is HEADed first for its size, and the copy is
   * made only if it is still that object (CopySourceIfMatch).
   */
  async copy(from: string, to: string): Promise<StoredObject> {
    const source = this.objectKey(from);
    const key = this.objectKey(to);
    await this.check();
    let head;
    try {
      head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: source }), SMALL);
    } catch (error) {
      if (isNotFound(error)) {
        throw new StoreAccessError(`S3Store could not copy '${this.uriOf(source)}': there is no such object.`, { cause: error, store: this.description, operation: "copy" });
      }
      throw await this.fail("copy", error, "s3:GetObject", { key: source });
    }
    let etag: string | undefined;
    try {
      // Not a small request: S3 copies a large object for a while before it answers.
      const answer = await this.client.send(
        new CopyObjectCommand({ Bucket: this.bucket, Key: key, CopySource: encodeURI(`${this.bucket}/${source}`), ...(head.ETag === undefined ? {} : { CopySourceIfMatch: head.ETag }) }),
      );
      etag = answer.CopyObjectResult?.ETag;
    } catch (error) {
      const failure = await this.fail("copy", error, "s3:PutObject", { key });
      if (failure.reason !== "access-denied") throw failure;
      // S3 does not say which of the two actions a copy needs was denied.
      throw new StoreAccessError(`${failure.message} A copy also reads its source: allow s3:GetObject on arn:aws:s3:::${this.bucket}/${source} as well.`, {
        cause: failure.cause,
        store: this.description,
        operation: "copy",
        reason: "access-denied",
      });
    }
    return { uri: this.uriOf(key), bytes: head.ContentLength ?? 0, ...(etag === undefined ? {} : { etag }) };
  }

  async delete(storeKey: string): Promise<void> {
    const key = this.objectKey(storeKey);
    await this.check();
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), SMALL);
    } catch (error) {
      throw await this.fail("delete", error, "s3:DeleteObject", { key });
    }
  }

  /** Destroys the S3 client this store made (a client passed in is the caller's to destroy). Safe to call twice. */
  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}

/** The first part of every cache file name of `key`. */
function cacheStem(key: string): string {
  return `${createHash("sha256").update(key).digest("hex").slice(0, 16)}-`;
}

/** The Content-Type of an object by its key's extension. */
function contentType(key: string): string {
  if (key.endsWith(".parquet")) return PARQUET_TYPE;
  if (key.endsWith(".json")) return "application/json; charset=utf-8";
  return "application/octet-stream";
}
