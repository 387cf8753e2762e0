import { StoreAccessError } from "@mlforge/core";

/** The IAM actions S3Store and s3Sources() use (s3:DeleteObject only for retention of kept versions). */
export type S3Action = "s3:ListBucket" | "s3:GetObject" | "s3:PutObject" | "s3:DeleteObject";

/** What S3Store (or an s3Sources() provider) was doing when a request failed, so that the message can say how to fix it. */
export interface S3RequestContext {
  /** The store or provider, for `StoreAccessError.store`: "S3Store s3://bucket/prefix", "s3Sources() s3://bucket". @default none */
  store?: string;
  /** What it was doing, for `StoreAccessError.operation`: "putFeature", "check", "list"… @default none */
  operation?: string;
  bucket: string;
  /** What the user configured, named in fixes: the store, or the source provider (whose bucket comes from a source URI). @default "S3Store" */
  owner?: "S3Store" | "s3Sources()";
  /** The IAM action the failed request needs. */
  action: S3Action;
  /** The object key the request was about; absent for listings. */
  key?: string;
  /** The prefix a listing asked for ("" for the whole bucket). */
  prefix?: string;
  /** Where requests go, for messages: the `endpoint` option or "Amazon S3 (region …)". */
  endpoint: string;
  /** The region the client signs for, when known. */
  region: string | undefined;
  /** Where the credentials come from. */
  credentials: "option" | "client" | "chain";
  /** True inside `check()`: the message then starts with the bucket sentence. */
  check: boolean;
  /** The credentials' secret values (key id, secret key, session token), removed from the error kept as `cause`. @default none known */
  secrets?: readonly string[];
}

/** The fields of an AWS SDK v3 error (or a Node network error) that the messages rely on. */
interface ErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  Region?: string;
  Endpoint?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number; headers?: Record<string, string | undefined> };
  errors?: unknown[];
  cause?: unknown;
}

const CREDENTIAL_CODES = new Set([
  "InvalidAccessKeyId",
  "SignatureDoesNotMatch",
  "ExpiredToken",
  "InvalidToken",
  "TokenRefreshRequired",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
]);

const NETWORK_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EPIPE", "ETIMEDOUT", "ECONNABORTED"]);

/** The bucket sentence every failed `check()` starts with (the wording users of the Python original know). */
export function bucketSentence(bucket: string): string {
  return `Bucket '${bucket}' does not exist or is not accessible. Ensure the bucket is created and credentials have appropriate permissions.`;
}

function shape(error: unknown): ErrorShape {
  return typeof error === "object" && error !== null ? (error as ErrorShape) : { message: String(error) };
}

/** The S3 error code (`NoSuchBucket`, `AccessDenied`…) or Node's network code (`ECONNREFUSED`). */
export function s3ErrorCode(error: unknown): string | undefined {
  const value = shape(error);
  if (value.Code !== undefined) return value.Code;
  if (value.code !== undefined && NETWORK_CODES.has(value.code)) return value.code;
  // Node 20 reports a failed connection to a host with several addresses as an AggregateError.
  for (const inner of [...(value.errors ?? []), value.cause]) {
    const code = shape(inner).code;
    if (code !== undefined && NETWORK_CODES.has(code)) return code;
  }
  if (value.name !== undefined && value.name !== "Error" && value.name !== "Unknown") return value.name;
  // The SDK's retry layer re-wraps an error from another realm (a vm sandbox, as under Jest) keeping only its text.
  const named = /\b(E[A-Z_]{4,})\b/.exec(value.message ?? "")?.[1];
  if (named !== undefined && NETWORK_CODES.has(named)) return named;
  return value.code;
}

/** The HTTP status S3 answered with, when the request got that far. */
export function s3Status(error: unknown): number | undefined {
  const value = shape(error);
  return value.$metadata?.httpStatusCode ?? value.$response?.statusCode;
}

/** True when S3 says the object is not there (GetObject's NoSuchKey, HeadObject's bare 404). */
export function isNotFound(error: unknown): boolean {
  const code = s3ErrorCode(error);
  return code === "NoSuchKey" || code === "NotFound" || (s3Status(error) === 404 && code !== "NoSuchBucket");
}

/** True when S3 refused the request for lack of permission (a HEAD's 403 has no body, hence no code). */
export function isAccessDenied(error: unknown): boolean {
  const code = s3ErrorCode(error);
  if (code === "AccessDenied" || code === "AllAccessDisabled") return true;
  return s3Status(error) === 403 && (code === undefined || code === "Forbidden" || code === "403" || code === "UnknownError");
}

function bucketRegion(error: ErrorShape): string | undefined {
  const header = error.$response?.headers?.["x-amz-bucket-region"];
  if (header) return header;
  if (error.Region) return error.Region;
  const expecting = /expecting '([a-z0-9-]+)'/.exec(error.message ?? "");
  if (expecting) return expecting[1];
  const endpoint = /s3[.-]([a-z]{2}-[a-z]+-\d)\.amazonaws/.exec(error.Endpoint ?? "");
  return endpoint?.[1];
}

function isRegionError(error: ErrorShape, code: string | undefined, status: number | undefined): boolean {
  if (code === "PermanentRedirect" || code === "IllegalLocationConstraintException" || code === "301" || status === 301) return true;
  return code === "AuthorizationHeaderMalformed" && bucketRegion(error) !== undefined;
}

function credentialSource(context: S3RequestContext): string {
  if (context.credentials === "option") return `the 'credentials' option passed to ${context.owner ?? "S3Store"}.`;
  if (context.credentials === "client") return "the S3Client passed as the 'client' option.";
  const environment = process.env.AWS_ACCESS_KEY_ID
    ? " AWS_ACCESS_KEY_ID is set in this environment, so the environment variables are the ones in use."
    : process.env.AWS_PROFILE
      ? ` AWS_PROFILE is '${process.env.AWS_PROFILE}'.`
      : "";
  return (
    "the AWS SDK's default chain: the AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN environment variables, " +
    "then the profile named by AWS_PROFILE (else 'default') in ~/.aws/credentials and ~/.aws/config (SSO included), " +
    `then container and instance roles.${environment}`
  );
}

function target(context: S3RequestContext): { text: string; arn: string; hint: string } {
  if (context.key !== undefined) {
    return { text: `'s3://${context.bucket}/${context.key}'`, arn: `arn:aws:s3:::${context.bucket}/${context.key}`, hint: "" };
  }
  const prefix = context.prefix ?? "";
  return {
    text: prefix === "" ? `bucket '${context.bucket}' (whole bucket)` : `prefix '${prefix}' of bucket '${context.bucket}'`,
    arn: `arn:aws:s3:::${context.bucket}`,
    hint: prefix === "" ? "" : ` (with a StringLike condition on s3:prefix such as '${prefix.split("/")[0]}/*' if you limit listing)`,
  };
}

function detail(error: unknown, context: S3RequestContext): string {
  const value = shape(error);
  const code = s3ErrorCode(error);
  const status = s3Status(error);
  const about = target(context);

  if (code === "NoSuchBucket") {
    return `${context.endpoint} has no bucket '${context.bucket}' (NoSuchBucket). Create it (for example: aws s3 mb s3://${context.bucket}) or correct the ${context.owner === "s3Sources()" ? "bucket in the source URI" : "'bucket' option"}.`;
  }
  if (isRegionError(value, code, status)) {
    const actual = bucketRegion(value);
    const configured = context.region === undefined ? "(none)" : `'${context.region}'`;
    return actual === undefined
      ? `The bucket is in another region than the configured ${configured} (${code ?? status}). Pass the bucket's region as the 'region' option.`
      : `The bucket is in region '${actual}' but ${context.owner === "s3Sources()" ? "s3Sources()" : "the store"} is configured for region ${configured} (${code ?? status}). Pass region: '${actual}' to ${context.owner ?? "S3Store"} or set AWS_REGION=${actual}.`;
  }
  if (code !== undefined && CREDENTIAL_CODES.has(code)) {
    const expired = code === "ExpiredToken" || code === "TokenRefreshRequired" ? " The session token has expired: refresh the credentials (for example: aws sso login)." : "";
    return (
      `S3 rejected the credentials (${code}).${expired} They come from ${credentialSource(context)} ` +
      "Check the access key id, the secret access key and, for temporary credentials, the session token."
    );
  }
  if (code === "CredentialsProviderError") {
    return (
      "No AWS credentials were found. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, choose a profile with AWS_PROFILE " +
      "(aws configure, aws sso login), run with an IAM role, or pass the 'credentials' option."
    );
  }
  if (/region is missing/i.test(value.message ?? "")) {
    return `No AWS region is configured. Pass region (for example region: 'us-west-2') to ${context.owner ?? "S3Store"} or set AWS_REGION.`;
  }
  if (code === "RequestTimeTooSkewed") {
    return "S3 refused the request because this machine's clock is off by more than 15 minutes (RequestTimeTooSkewed). Synchronise the clock (NTP).";
  }
  if (isAccessDenied(error)) {
    return (
      `Access denied: these credentials may not perform ${context.action} on ${about.text}. ` +
      `Allow ${context.action} on ${about.arn}${about.hint} in their IAM policy (see the IAM policies in the @mlforge/store-s3 README).`
    );
  }
  if (code === "TimeoutError" || code === "ETIMEDOUT" || code === "RequestTimeout") {
    const endpoint = context.endpoint.charAt(0).toUpperCase() + context.endpoint.slice(1);
    return `${endpoint} did not answer in time (${code}). Check the 'endpoint' option, the network and any proxy between here and S3.`;
  }
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return `Could not connect to ${context.endpoint} (${code}). Check the 'endpoint' option and that the server is running and reachable from here.`;
  }
  const said = value.message && value.message !== code && value.message !== "UnknownError" ? `: ${value.message.replace(/\.+$/, "")}` : "";
  return `S3 answered ${code ?? "an error"}${status === undefined ? "" : ` (HTTP ${status})`} to ${context.action} on ${about.text}${said}.`;
}

/**
 * Fields that S3 copies from the request into an error answer, such as InvalidAccessKeyId's
 * AWSAccessKeyId and SignatureDoesNotMatch's StringToSign and CanonicalRequest (the signed
 * headers, x-amz-security-token among them). The SDK turns them into properties of its error.
 */
const ECHOED_FIELDS = ["AWSAccessKeyId", "StringToSign", "StringToSignBytes", "CanonicalRequest", "CanonicalRequestBytes", "SignatureProvided"];

const REDACTED = "[redacted]";

/** Headers that carry credentials, removed from any header map kept on an error. */
const SECRET_HEADERS = new Set(["authorization", "x-amz-security-token", "x-amz-credential", "x-amz-signature", "proxy-authorization", "cookie"]);

/** How deep redaction follows nested objects: S3's error documents are shallow; deeper is an SDK internal. */
const MAX_DEPTH = 12;

/** Plain data (objects, arrays) and errors: what redaction walks into. Class instances such as sockets and streams are not. */
function isWalkable(value: object): boolean {
  if (Array.isArray(value)) return true;
  // An error of another realm (a vm sandbox, as under Jest) fails instanceof; its tag does not.
  if (Object.prototype.toString.call(value) === "[object Error]") return true;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** The status, reason and headers of the SDK's raw HTTP answer (`$response`), without its body and request. */
function responseSummary(response: unknown): { statusCode?: number; reason?: string; headers: Record<string, string> } {
  const value = (typeof response === "object" && response !== null ? response : {}) as { statusCode?: unknown; reason?: unknown; headers?: unknown };
  const headers: Record<string, string> = {};
  if (typeof value.headers === "object" && value.headers !== null) {
    for (const [name, header] of Object.entries(value.headers)) {
      if (typeof header === "string" && !SECRET_HEADERS.has(name.toLowerCase())) headers[name] = header;
    }
  }
  return {
    ...(typeof value.statusCode === "number" ? { statusCode: value.statusCode } : {}),
    ...(typeof value.reason === "string" ? { reason: value.reason } : {}),
    headers,
  };
}

/**
 * Removes from an SDK or network error, and from everything in it at any depth (the fields S3
 * parsed from its answer, nested elements included; causes; inner errors), what may hold a secret:
 * the fields S3 echoes from the request, headers that carry credentials, and any text holding one
 * of `secrets`. The SDK's raw answer (`$response`, whose body keeps the request and its
 * x-amz-security-token header) is replaced by its status and headers. Errors are changed in place
 * (they were thrown to S3Store, nobody else holds them) and returned.
 */
export function redactSecrets<T>(error: T, secrets: readonly string[] = [], seen = new Set<unknown>()): T {
  const known = secrets.filter((secret) => secret.length >= 4);
  const clean = (text: string) => known.reduce((result, secret) => result.replaceAll(secret, REDACTED), text);
  const visit = (value: unknown, depth: number): unknown => {
    if (typeof value === "string") return known.some((secret) => value.includes(secret)) ? clean(value) : value;
    if (typeof value !== "object" || value === null || seen.has(value) || depth > MAX_DEPTH || !isWalkable(value)) return value;
    seen.add(value);
    const target = value as Record<string, unknown>;
    for (const field of ECHOED_FIELDS) if (field in target) delete target[field];
    for (const key of Object.getOwnPropertyNames(target)) {
      if (SECRET_HEADERS.has(key.toLowerCase()) && typeof target[key] === "string") {
        replace(target, key, REDACTED);
      } else if (key === "$response") {
        const response = target[key];
        const summary = visit(responseSummary(response), depth + 1) as ReturnType<typeof responseSummary>;
        // The SDK defines $response read-only and not configurable: then its object is emptied in place.
        if (!replace(target, key, summary) && typeof response === "object" && response !== null) {
          for (const field of Object.getOwnPropertyNames(response)) replace(response as Record<string, unknown>, field, undefined);
          Object.assign(response, summary);
        }
      } else {
        const before = target[key];
        const after = visit(before, depth + 1);
        if (after !== before) replace(target, key, after);
      }
    }
    // An error's message and stack may be inherited or lazy rather than own properties.
    for (const key of ["message", "stack"]) {
      const text = target[key];
      if (typeof text === "string" && known.some((secret) => text.includes(secret))) replace(target, key, clean(text));
    }
    return value;
  };
  visit(error, 0);
  return error;
}

/** Sets a property keeping whether it is enumerable; false when it is read-only and not configurable. */
function replace(target: Record<string, unknown>, key: string, value: unknown): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  if (descriptor !== undefined && !descriptor.configurable) {
    if (!descriptor.writable) return false;
    target[key] = value;
    return true;
  }
  try {
    Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable: descriptor?.enumerable ?? true });
    return true;
  } catch {
    return false;
  }
}

/** The user name and password written into an endpoint URL (`http://user:pass@host`), as written and decoded. */
export function endpointSecrets(endpoint: string | undefined): string[] {
  const url = parseUrl(endpoint);
  if (url === undefined) return [];
  const parts = [url.username, url.password].filter((part) => part !== "");
  return [...new Set(parts.flatMap((part) => [part, safeDecode(part)]))];
}

/** The endpoint as messages show it: without a user name and password written into it. */
export function shownEndpoint(endpoint: string): string {
  const url = parseUrl(endpoint);
  if (url === undefined || (url.username === "" && url.password === "")) return endpoint;
  url.username = "";
  url.password = "";
  return url.href.replace(/\/$/, endpoint.endsWith("/") ? "/" : "");
}

function parseUrl(endpoint: string | undefined): URL | undefined {
  if (endpoint === undefined || !endpoint.includes("@")) return undefined;
  try {
    return new URL(endpoint);
  } catch {
    return undefined;
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The context with the endpoint as messages show it, and the endpoint's own credentials among the secrets. */
function safeContext(context: S3RequestContext): S3RequestContext {
  return { ...context, endpoint: shownEndpoint(context.endpoint), secrets: [...(context.secrets ?? []), ...endpointSecrets(context.endpoint)] };
}

/** The error redacted of every secret the context knows of (see `redactSecrets`), and the message for it. */
export function redactedFailure(error: unknown, context: S3RequestContext): { cause: unknown; message: string } {
  const safe = safeContext(context);
  const cause = redactSecrets(error, safe.secrets);
  return { cause, message: s3ErrorMessage(cause, safe) };
}

/** The message for an S3 or network failure: what is wrong and how to fix it. */
export function s3ErrorMessage(error: unknown, context: S3RequestContext): string {
  context = safeContext(context);
  const lead = context.check || s3ErrorCode(error) === "NoSuchBucket" ? `${bucketSentence(context.bucket)} ` : "";
  return `${lead}${detail(error, context)}`;
}

/**
 * Turns an S3 or network failure into a `StoreAccessError` that says what is wrong and how to fix
 * it, keeping the SDK error as `cause` with every secret removed (see `redactSecrets`).
 */
export function s3AccessError(error: unknown, context: S3RequestContext): StoreAccessError {
  const { cause, message } = redactedFailure(error, context);
  return new StoreAccessError(message, {
    cause,
    store: context.store,
    operation: context.operation,
    ...(isAccessDenied(error) ? { reason: "access-denied" as const } : {}),
  });
}

/**
 * The secret values of a client's credentials (key id, secret key, session token), to keep them
 * out of `error`; none when they cannot be resolved, and none looked for when the failure is that
 * there are no credentials (resolving them again would repeat the SDK's search).
 */
export async function errorSecrets(client: { config: { credentials?: unknown } }, error: unknown): Promise<string[]> {
  if (s3ErrorCode(error) === "CredentialsProviderError") return [];
  try {
    const provider = client.config.credentials as (() => Promise<Record<string, unknown>>) | undefined;
    const identity = typeof provider === "function" ? await provider() : undefined;
    return ["accessKeyId", "secretAccessKey", "sessionToken"].map((name) => identity?.[name]).filter((value): value is string => typeof value === "string" && value !== "");
  } catch {
    return [];
  }
}
