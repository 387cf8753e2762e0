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

/** An S3Client with bounded retries and timeouts, and settings S3-compatible servers accept when `endpoint` is set. */
export function createS3Client(options: S3ClientOptions): S3Client {
  const custom = options.endpoint !== undefined;
  const config: S3ClientConfig = {
    // Bounded failures: three attempts, each with a connection timeout; small requests also get a total timeout (per request).
    maxAttempts: 3,
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
