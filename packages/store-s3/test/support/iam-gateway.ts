import { createHash, createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

/** One statement of an IAM identity policy (the subset the gateway evaluates). */
export interface PolicyStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action: string | string[];
  Resource: string | string[];
  /** Supported operators: StringLike, StringEquals. */
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM identity policy as written in storage-backends.md. */
export interface IamPolicy {
  Version?: string;
  Statement: PolicyStatement[];
}

/** What the gateway saw of one request. */
export interface GatewayRequest {
  method: string;
  /** The S3 API operation: GetObject, HeadObject, ListObjectsV2, UploadPart… */
  operation: string;
  /** The IAM action S3 authorises it as: s3:GetObject, s3:ListBucket… */
  action: string;
  /** The resource ARN the action applies to. */
  resource: string;
  /** The `prefix` query parameter of a listing (the `s3:prefix` condition key). */
  prefix?: string;
  /** A copy's source object ARN (CopyObject, UploadPartCopy): S3 authorises s3:GetObject on it besides s3:PutObject on `resource`. */
  copySource?: string;
  /** False when the policy denied it (answered 403 AccessDenied without reaching the server). */
  allowed: boolean;
  /** The status code sent back. */
  status?: number;
}

/** Options of `IamGateway.start()`. */
export interface IamGatewayOptions {
  /** The S3 server requests are forwarded to, `http://127.0.0.1:<port>`. */
  target: string;
  /** The policy of the caller. @default undefined: everything is allowed */
  policy?: IamPolicy;
  /** When given, requests must be SigV4-signed with this key pair (s3rver does not verify V4 signatures itself). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** When given, a request signed for another region is answered like S3 does: 400 AuthorizationHeaderMalformed naming this region. */
  bucketRegion?: string;
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/** IAM wildcard match: `*` any run of characters, `?` one character. */
function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${source}$`, ignoreCase ? "is" : "s").test(value);
}

function conditionsHold(condition: PolicyStatement["Condition"], context: Record<string, string | undefined>): boolean {
  for (const [operator, block] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(block)) {
      const actual = context[key];
      // A key absent from the request fails the condition (no ...IfExists operators here).
      if (actual === undefined) return false;
      if (operator === "StringLike") {
        if (!list(expected).some((pattern) => wildcard(pattern, actual, false))) return false;
      } else if (operator === "StringEquals") {
        if (!list(expected).includes(actual)) return false;
      } else {
        throw new Error(`IamGateway does not support the condition operator ${operator}.`);
      }
    }
  }
  return true;
}

/** IAM evaluation: an explicit Deny wins, else any matching Allow, else the implicit deny. */
export function isAllowed(policy: IamPolicy, action: string, resource: string, context: Record<string, string | undefined>): boolean {
  let allowed = false;
  for (const statement of policy.Statement) {
    if (!list(statement.Action).some((pattern) => wildcard(pattern, action, true))) continue;
    if (!list(statement.Resource).some((pattern) => wildcard(pattern, resource, false))) continue;
    if (!conditionsHold(statement.Condition, context)) continue;
    if (statement.Effect === "Deny") return false;
    allowed = true;
  }
  return allowed;
}

/** Maps a path-style S3 request to its API operation, IAM action and resource. */
export function classify(
  method: string,
  pathname: string,
  query: URLSearchParams,
  headers: http.IncomingHttpHeaders,
): { operation: string; action: string; resource: string; prefix?: string; copySource?: string } {
  const [, rawBucket = "", ...rawKey] = pathname.split("/");
  const bucket = decodeURIComponent(rawBucket);
  const key = decodeURIComponent(rawKey.join("/"));
  const has = (name: string) => query.has(name);
  if (bucket === "") return { operation: "ListBuckets", action: "s3:ListAllMyBuckets", resource: "*" };

  if (key === "") {
    const resource = `arn:aws:s3:::${bucket}`;
    const listing = (operation: string, action: string) => ({ operation, action, resource, prefix: query.get("prefix") ?? undefined });
    if (method === "HEAD") return { operation: "HeadBucket", action: "s3:ListBucket", resource };
    if (method === "PUT") return { operation: "CreateBucket", action: "s3:CreateBucket", resource };
    if (method === "DELETE") return { operation: "DeleteBucket", action: "s3:DeleteBucket", resource };
    if (method === "POST" && has("delete")) return { operation: "DeleteObjects", action: "s3:DeleteObject", resource: `${resource}/*` };
    if (has("location")) return { operation: "GetBucketLocation", action: "s3:GetBucketLocation", resource };
    if (has("uploads")) return listing("ListMultipartUploads", "s3:ListBucketMultipartUploads");
    if (has("versions")) return listing("ListObjectVersions", "s3:ListBucketVersions");
    return listing(query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects", "s3:ListBucket");
  }

  const resource = `arn:aws:s3:::${bucket}/${key}`;
  const object = (operation: string, action: string) => ({ operation, action, resource });
  const header = headers["x-amz-copy-source"];
  const source = typeof header === "string" ? `arn:aws:s3:::${decodeURIComponent(header.split("?")[0]!.replace(/^\//, ""))}` : undefined;
  const copy = (operation: string) => ({ operation, action: "s3:PutObject", resource, copySource: source! });
  switch (method) {
    case "GET":
      if (has("uploadId")) return object("ListParts", "s3:ListMultipartUploadParts");
      if (has("acl")) return object("GetObjectAcl", "s3:GetObjectAcl");
      if (has("tagging")) return object("GetObjectTagging", "s3:GetObjectTagging");
      return object("GetObject", "s3:GetObject");
    case "HEAD":
      return object("HeadObject", "s3:GetObject");
    case "PUT":
      if (has("uploadId") && has("partNumber")) return source === undefined ? object("UploadPart", "s3:PutObject") : copy("UploadPartCopy");
      if (has("tagging")) return object("PutObjectTagging", "s3:PutObjectTagging");
      if (has("acl")) return object("PutObjectAcl", "s3:PutObjectAcl");
      return source === undefined ? object("PutObject", "s3:PutObject") : copy("CopyObject");
    case "POST":
      if (has("uploads")) return object("CreateMultipartUpload", "s3:PutObject");
      if (has("uploadId")) return object("CompleteMultipartUpload", "s3:PutObject");
      return object("PostObject", "s3:PutObject");
    case "DELETE":
      if (has("uploadId")) return object("AbortMultipartUpload", "s3:AbortMultipartUpload");
      return object("DeleteObject", "s3:DeleteObject");
    default:
      return object(`Unknown${method}`, "s3:Unknown");
  }
}

/** RFC 3986 encoding, as SigV4 wants it. */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

/** Checks an `Authorization: AWS4-HMAC-SHA256 …` header the way S3 does; returns the S3 error to answer, if any. */
function verifySignature(
  request: http.IncomingMessage,
  options: IamGatewayOptions,
): { status: number; code: string; message: string; extra?: Record<string, string> } | undefined {
  const credentials = options.credentials;
  const header = request.headers.authorization ?? "";
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*Signature=([0-9a-f]+)$/.exec(header);
  if (parsed === null) return { status: 403, code: "AccessDenied", message: "Anonymous access is not allowed." };
  const [, credential = "", signedHeaders = "", signature = ""] = parsed;
  const [accessKeyId, date = "", region = "", service = "", terminal] = credential.split("/");
  if (options.bucketRegion !== undefined && region !== options.bucketRegion) {
    return {
      status: 400,
      code: "AuthorizationHeaderMalformed",
      message: `The authorization header is malformed; the region '${region}' is wrong; expecting '${options.bucketRegion}'`,
      extra: { Region: options.bucketRegion },
    };
  }
  if (credentials === undefined) return undefined;
  if (accessKeyId !== credentials.accessKeyId || terminal !== "aws4_request") {
    return { status: 403, code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records." };
  }
  const url = new URL(request.url ?? "/", "http://gateway");
  const rawPath = (request.url ?? "/").split("?")[0]!;
  const query = [...url.searchParams.entries()]
    .filter(([name]) => name !== "X-Amz-Signature")
    .map(([name, value]) => [encode(name), encode(value)] as const)
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const names = signedHeaders.split(";");
  const canonicalHeaders = names.map((name) => `${name}:${String(request.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`).join("");
  const payload = String(request.headers["x-amz-content-sha256"] ?? "UNSIGNED-PAYLOAD");
  const canonicalRequest = [request.method, rawPath, query, canonicalHeaders, signedHeaders, payload].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", String(request.headers["x-amz-date"]), scope, createHash("sha256").update(canonicalRequest).digest("hex")].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), region), service), "aws4_request");
  if (hmac(signingKey, stringToSign).toString("hex") !== signature) {
    return {
      status: 403,
      code: "SignatureDoesNotMatch",
      message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
    };
  }
  return undefined;
}

function escapeXml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * A small HTTP proxy in front of an S3 server that plays IAM: it maps each request to its S3
 * action and resource, evaluates a policy, answers S3's `403 AccessDenied` when denied and
 * otherwise forwards the request unchanged (Host header included, bodies streamed). It records
 * every request so that tests can assert which actions a workflow used.
 */
export class IamGateway {
  /** Every request seen, in order. */
  readonly requests: GatewayRequest[] = [];
  /** The caller's policy; undefined allows everything. Change it between steps of a test. */
  policy: IamPolicy | undefined;
  /** Operations (such as "UploadPart") answered with S3's 500 InternalError, to test failures. */
  readonly failing = new Set<string>();
  /** Operations answered by the gateway itself with this status and no body, as S3 would (s3rver lacks some). */
  readonly answering = new Map<string, number>();

  private constructor(
    private readonly server: http.Server,
    private readonly agent: http.Agent,
    private readonly options: IamGatewayOptions,
    /** `http://127.0.0.1:<port>`, the endpoint to give S3Store. */
    readonly endpoint: string,
  ) {
    this.policy = options.policy;
  }

  /** Starts the gateway on 127.0.0.1 and an ephemeral port. */
  static async start(options: IamGatewayOptions): Promise<IamGateway> {
    const server = http.createServer();
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    const gateway = new IamGateway(server, agent, options, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => gateway.handle(request, response));
    return gateway;
  }

  /** The operations seen (GetObject, UploadPart…), in order. */
  operations(): string[] {
    return this.requests.map((request) => request.operation);
  }

  /** The distinct IAM actions of the requests that were allowed (a copy's s3:GetObject on its source included), sorted. */
  allowedActions(): string[] {
    const allowed = this.requests.filter((request) => request.allowed);
    return [...new Set(allowed.flatMap((request) => (request.copySource === undefined ? [request.action] : [request.action, "s3:GetObject"])))].sort();
  }

  /** Forgets the recorded requests. */
  clear(): void {
    this.requests.length = 0;
  }

  /** Stops the gateway and closes its connections. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://gateway");
    const method = request.method ?? "GET";
    const { operation, action, resource, prefix, copySource } = classify(method, url.pathname, url.searchParams, request.headers);
    const record: GatewayRequest = { method, operation, action, resource, prefix, ...(copySource === undefined ? {} : { copySource }), allowed: true };
    this.requests.push(record);

    const permitted = (wanted: string, arn: string) => this.policy === undefined || isAllowed(this.policy, wanted, arn, { "s3:prefix": prefix });
    // A copy reads its source: without s3:GetObject on it S3 denies the copy, whatever s3:PutObject allows.
    const readsSource = copySource === undefined || permitted("s3:GetObject", copySource);
    const denial =
      verifySignature(request, this.options) ??
      (!permitted(action, resource) || !readsSource ? { status: 403, code: "AccessDenied", message: "Access Denied" } : undefined);
    const rejection = denial ?? (this.failing.has(operation) ? { status: 500, code: "InternalError", message: "We encountered an internal error. Please try again.", extra: undefined } : undefined);
    if (rejection !== undefined) {
      record.allowed = denial === undefined;
      record.status = rejection.status;
      const extra = Object.entries(rejection.extra ?? {}).map(([name, value]) => `<${name}>${escapeXml(value)}</${name}>`).join("");
      const body =
        method === "HEAD"
          ? ""
          : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${rejection.code}</Code><Message>${escapeXml(rejection.message)}</Message>` +
            `${extra}<RequestId>${randomBytes(8).toString("hex")}</RequestId></Error>`;
      // Read the request body first, as S3 does, so that the client is not cut off mid-upload.
      request.resume();
      request.once("end", () => {
        response.writeHead(rejection.status, {
          "content-type": "application/xml",
          ...(rejection.extra?.Region === undefined ? {} : { "x-amz-bucket-region": rejection.extra.Region }),
        });
        response.end(body);
      });
      return;
    }

    const answer = this.answering.get(operation);
    if (answer !== undefined) {
      record.status = answer;
      request.resume();
      request.once("end", () => response.writeHead(answer).end());
      return;
    }

    const target = new URL(this.options.target);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method, path: request.url, headers: request.headers, agent: this.agent },
      (answer) => {
        record.status = answer.statusCode;
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", (error) => response.destroy(error));
    request.pipe(upstream);
  }
}
