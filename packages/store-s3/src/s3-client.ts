import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";

/** The options S3Store and s3Sources() build their S3Client from. */
export interface S3ClientOptions {
  /** AWS region. @default the SDK's chain (AWS_REGION, the profile's region); "us-east-1" when `endpoint` is set */
  region?: string;
  /** URL of an S3-compatible server. @default Amazon S3 */
  endpoint?: string;
  /** Address buckets as `endpoint/bucket/key`. @default true when `endpoint` is set, else false */
  forcePathStyle?: boolean;
  /** Static credentials or a credential provider. @default the SDK's chain */
  credentials?: S3ClientConfig["credentials"];
}

/**
 * Attempts per request. The SDK's standard retry strategy retries what may pass on a second try
 * (HTTP 500, 502, 503, 504, throttling such as 503 SlowDown, timeouts, reset or refused
 * connections), waiting a random time up to 50 ms × 2^retry (1 s × 2^retry when throttled, at
 * most 20 s) in between, and stops retrying for a while once many retries failed. A request body
 * is retried whole: lib-storage hands each part to the SDK as a buffer.
 */
export const MAX_ATTEMPTS = 5;

/** An S3Client with bounded retries and timeouts, and settings S3-compatible servers accept when `endpoint` is set. */
export function createS3Client(options: S3ClientOptions): S3Client {
  const custom = options.endpoint !== undefined;
  const config: S3ClientConfig = {
    // Bounded failures: a few attempts with backoff, each with a connection timeout and a socket
    // (idle) timeout; small requests also get a total timeout per attempt (S3Store's requestTimeout).
    retryMode: "standard",
    maxAttempts: MAX_ATTEMPTS,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 5_000, socketTimeout: 30_000, throwOnRequestTimeout: true }),
    forcePathStyle: options.forcePathStyle ?? custom,
  };
  if (options.region !== undefined) config.region = options.region;
  else if (custom) config.region = "us-east-1";
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (custom) {
    // S3-compatible servers often cannot read the aws-chunked bodies that carry the SDK's default CRC32 trailers.
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  }
  return new S3Client(config);
}
