import { createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, paginateListObjectsV2, type S3Client } from "@aws-sdk/client-s3";
import { InvalidOptionError, SourceNotFoundError, StoreAccessError } from "@mlforge/core";
import { checkOptions, type RemoteObject, type SourceProvider } from "@mlforge/core/store-kit";
import { errorSecrets, isAccessDenied, isNotFound, redactedFailure, s3AccessError, s3ErrorCode, type S3Action, type S3RequestContext } from "./s3-access-error";
import { createS3Client, type S3ClientOptions } from "./s3-client";

/** Options of `s3Sources()`: how to reach the buckets that `s3://` sources name. */
export interface S3SourcesOptions extends S3ClientOptions {
  /** URL of an S3-compatible server (MinIO, Cloudflare R2, Ceph…). @default AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else Amazon S3 */
  endpoint?: string;
  /** A ready S3Client; then `region`, `endpoint`, `forcePathStyle` and `credentials` must not be given. @default a client built from the options above */
  client?: S3Client;
}

const KNOWN_OPTIONS = { region: "any", endpoint: "any", forcePathStyle: "any", credentials: "any", client: "any" } as const;
const CLIENT_OPTIONS = ["region", "endpoint", "forcePathStyle", "credentials"] as const;
/** Total time allowed for a listing page or a HEAD before it is retried; downloads have only the socket timeout. */
const SMALL = { requestTimeout: 10_000 };

function validate(options: S3SourcesOptions): void {
  checkOptions("s3Sources()", options, KNOWN_OPTIONS, { example: 's3Sources({ region: "us-west-2" })' });
  if (options.client !== undefined) {
    const clashing = CLIENT_OPTIONS.filter((key) => options[key] !== undefined);
    if (clashing.length > 0) {
      throw new InvalidOptionError(`s3Sources() got a ready 'client' and also ${clashing.map((key) => `'${key}'`).join(", ")}. Configure those on the S3Client, or drop 'client'.`, "s3Sources()", ["client", ...clashing]);
    }
    if (typeof options.client.send !== "function") throw new InvalidOptionError("s3Sources() option client must be an S3Client from @aws-sdk/client-s3.", "s3Sources()", ["client"]);
  }
}

/** `s3://bucket/some/key` → bucket and key; the key may be empty (the whole bucket). */
function parseUri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(uri);
  if (match === null) {
    throw new SourceNotFoundError(uri, `Source '${uri}' is not an S3 URI. Write it as s3://bucket/key, s3://bucket/prefix/ or s3://bucket/data/2025-*.parquet.`);
  }
  return { bucket: match[1]!, key: match[2]! };
}

const GLOB_CHARACTERS = /[*?[{]/;

/**
 * A key pattern as a regular expression, with the glob rules DuckDB applies to local paths:
 * `*` and `?` stay within one path segment, `**` crosses segments, `[a-z]` / `[!a-z]` are
 * character classes and `{a,b}` alternatives.
 */
function globToRegExp(pattern: string): RegExp {
  let source = "";
  let braces = 0;
  for (let index = 0; index < pattern.length; index++) {
    const character = pattern[index]!;
    if (character === "*") {
      if (pattern[index + 1] === "*") {
        // "**/" also matches no directory at all: data/**/x.csv takes data/x.csv.
        const slash = pattern[index + 2] === "/";
        source += slash ? "(?:.*/)?" : ".*";
        index += slash ? 2 : 1;
      } else {
        source += "[^/]*";
      }
    } else if (character === "?") {
      source += "[^/]";
    } else if (character === "[") {
      const end = pattern.indexOf("]", index + 2);
      if (end === -1) {
        source += "\\[";
      } else {
        let body = pattern.slice(index + 1, end);
        const negated = body.startsWith("!") || body.startsWith("^");
        if (negated) body = body.slice(1);
        source += `[${negated ? "^" : ""}${body.replace(/[\\\]]/g, "\\$&")}]`;
        index = end;
      }
    } else if (character === "{") {
      braces++;
      source += "(?:";
    } else if (character === "}" && braces > 0) {
      braces--;
      source += ")";
    } else if (character === "," && braces > 0) {
      source += "|";
    } else {
      source += character.replace(/[.+^$()|\\/{}]/g, "\\$&");
    }
  }
  return new RegExp(`^${source}${")".repeat(braces)}$`, "s");
}

/** True for what a listing of a prefix leaves out: folder markers and hidden names (`_SUCCESS`, `.crc` files of Spark and Hadoop). */
function isHidden(key: string): boolean {
  const name = key.split("/").at(-1) ?? "";
  return name === "" || name.startsWith("_") || name.startsWith(".");
}

/** An ETag without its quotes (S3 sends `"…"`). */
function unquote(etag: string | undefined): string {
  return (etag ?? "").replace(/^"|"$/g, "");
}

/** Serves `s3://` sources through one S3 client. */
class S3Sources implements SourceProvider {
  readonly schemes = ["s3"] as const;
  private readonly client: S3Client;
  private readonly endpoint: string | undefined;
  private readonly credentialSource: S3RequestContext["credentials"];

  constructor(options: S3SourcesOptions) {
    validate(options);
    const environmentEndpoint = process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL || undefined;
    this.endpoint = options.client === undefined ? (options.endpoint ?? environmentEndpoint) : undefined;
    this.credentialSource = options.client !== undefined ? "client" : options.credentials !== undefined ? "option" : "chain";
    this.client = options.client ?? createS3Client({ ...options, endpoint: this.endpoint });
  }

  async list(uri: string): Promise<RemoteObject[]> {
    const { bucket, key } = parseUri(uri);
    const glob = GLOB_CHARACTERS.exec(key);
    if (glob === null && key !== "" && !key.endsWith("/")) return this.head(uri, bucket, key);
    // A glob lists from its longest literal prefix and keeps the keys the whole pattern matches.
    const prefix = glob === null ? key : key.slice(0, glob.index);
    const keep = glob === null ? (name: string) => !isHidden(name) : (name: string) => globToRegExp(key).test(name);
    const objects: RemoteObject[] = [];
    try {
      for await (const page of paginateListObjectsV2({ client: this.client }, { Bucket: bucket, Prefix: prefix || undefined }, SMALL)) {
        for (const entry of page.Contents ?? []) {
          if (entry.Key === undefined || entry.Key.endsWith("/") || !keep(entry.Key)) continue;
          objects.push({ uri: `s3://${bucket}/${entry.Key}`, size: entry.Size ?? 0, version: unquote(entry.ETag) });
        }
      }
    } catch (error) {
      throw await this.fail(error, uri, { bucket, operation: "list", action: "s3:ListBucket", prefix });
    }
    return objects.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
  }

  /** One object, asked with HEAD (s3:GetObject, which reading needs anyway): none when it is missing. */
  private async head(uri: string, bucket: string, key: string): Promise<RemoteObject[]> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }), SMALL);
      return [{ uri, size: head.ContentLength ?? 0, version: unquote(head.ETag) }];
    } catch (error) {
      if (isNotFound(error)) return [];
      if (isAccessDenied(error)) {
        // Without s3:ListBucket S3 answers 403 even for a missing object; a listing tells the two apart when allowed.
        // A HEAD's 403 has no body: when the listing fails for another reason (rejected credentials), its error says why.
        const listing = await this.exists(bucket, key).then(
          (exists) => ({ exists }),
          (listingError: unknown) => ({ listingError }),
        );
        if ("exists" in listing && !listing.exists) return [];
        if ("listingError" in listing && !isAccessDenied(listing.listingError)) {
          throw await this.fail(listing.listingError, uri, { bucket, operation: "list", action: "s3:ListBucket", prefix: key });
        }
      }
      throw await this.fail(error, uri, { bucket, operation: "list", action: "s3:GetObject", key });
    }
  }

  private async exists(bucket: string, key: string): Promise<boolean> {
    const listing = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }), SMALL);
    return listing.Contents?.some((entry) => entry.Key === key) ?? false;
  }

  async download(object: RemoteObject, file: string): Promise<void> {
    const { bucket, key } = parseUri(object.uri);
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      await pipeline(response.Body as Readable, createWriteStream(file));
      const { size } = await stat(file);
      if (response.ContentLength !== undefined && size !== response.ContentLength) {
        throw new StoreAccessError(`Downloaded ${size} of ${response.ContentLength} bytes of '${object.uri}': the connection broke. Build again.`, {
          store: `s3Sources() s3://${bucket}`,
          operation: "download",
        });
      }
    } catch (error) {
      await rm(file, { force: true });
      if (StoreAccessError.isInstance(error)) throw error;
      if (isNotFound(error)) {
        throw new SourceNotFoundError(object.uri, `Source object '${object.uri}' was deleted after it was listed (${s3ErrorCode(error) ?? "NotFound"}). Build again.`, { cause: error });
      }
      throw await this.fail(error, object.uri, { bucket, operation: "download", action: "s3:GetObject", key });
    }
  }

  private async region(): Promise<string | undefined> {
    try {
      return await this.client.config.region();
    } catch {
      return undefined;
    }
  }

  /** A missing bucket is a `SourceNotFoundError`; anything else a `StoreAccessError` naming the action and the key or prefix. */
  private async fail(error: unknown, uri: string, about: { bucket: string; operation: string; action: S3Action; key?: string; prefix?: string }): Promise<Error> {
    const region = await this.region();
    const context: S3RequestContext = {
      ...about,
      store: `s3Sources() s3://${about.bucket}`,
      owner: "s3Sources()",
      endpoint: this.endpoint ?? (this.credentialSource === "client" ? "the S3Client's endpoint" : `Amazon S3 (region ${region ?? "unknown"})`),
      region,
      credentials: this.credentialSource,
      check: false,
      secrets: await errorSecrets(this.client, error),
    };
    if (s3ErrorCode(error) === "NoSuchBucket") {
      const { cause, message } = redactedFailure(error, context);
      return new SourceNotFoundError(uri, `Source '${uri}': ${message}`, { cause });
    }
    return s3AccessError(error, context);
  }
}

/**
 * The provider of `s3://` sources for `new Definitions({ sources: [s3Sources()] })`: objects
 * (`s3://bucket/key`), prefixes (`s3://bucket/prefix/`) and globs (`s3://bucket/data/2025-*.parquet`).
 * Core imports it by itself for `s3://` sources when no provider is given. Needs s3:GetObject, and
 * s3:ListBucket for prefixes and globs.
 */
export function s3Sources(options: S3SourcesOptions = {}): SourceProvider {
  return new S3Sources(options);
}
