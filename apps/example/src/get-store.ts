import type { OfflineStore, OnlineStore } from "@mlforge/core";
import { LocalOnlineStore } from "@mlforge/online-local";
import { RedisOnlineStore } from "@mlforge/online-redis";
import { LocalStore } from "@mlforge/store-local";
import { S3Store, type S3StoreOptions } from "@mlforge/store-s3";

/** The values ENVIRONMENT may take. */
export const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;

/** The environments whose features live in S3. */
export type S3Environment = "dev" | "staging" | "prod";

/** Bucket and prefix of each S3 environment, as in the storage guide's multi-environment setup. */
const S3_LOCATIONS: Readonly<Record<S3Environment, { bucket: string; prefix: string }>> = {
  dev: { bucket: "mlforge-features", prefix: "dev/features" },
  staging: { bucket: "mlforge-features", prefix: "staging/features" },
  prod: { bucket: "mlforge-features-prod", prefix: "features" },
};

/** Where an S3 environment keeps its features; the MLFORGE_BUCKET environment variable replaces the bucket. */
export function s3Location(environment: S3Environment): { bucket: string; prefix: string } {
  const location = S3_LOCATIONS[environment];
  return { bucket: process.env.MLFORGE_BUCKET || location.bucket, prefix: location.prefix };
}

/**
 * The S3Store options of an S3 environment: its bucket and prefix, plus `endpoint` and path-style
 * addressing when S3_ENDPOINT names an S3-compatible server (MinIO, R2, Ceph, a local s3rver).
 * Region and credentials come from the AWS SDK's standard chain (AWS_REGION, AWS_ACCESS_KEY_ID…, AWS_PROFILE, roles).
 */
export function s3StoreOptions(environment: S3Environment): S3StoreOptions {
  const endpoint = process.env.S3_ENDPOINT;
  return { ...s3Location(environment), ...(endpoint ? { endpoint, forcePathStyle: true } : {}) };
}

/**
 * The offline store of an environment: `local` writes to ./feature_store (or the FEATURE_STORE
 * environment variable); `dev`, `staging` and `prod` are S3Stores (see `s3StoreOptions`).
 * @param environment @default process.env.ENVIRONMENT ?? "local"
 */
export function getStore(environment: string = process.env.ENVIRONMENT ?? "local"): OfflineStore {
  switch (environment) {
    case "local":
      return new LocalStore(process.env.FEATURE_STORE ?? "./feature_store");
    case "dev":
    case "staging":
    case "prod":
      return new S3Store(s3StoreOptions(environment));
    default:
      throw new Error(`Unknown ENVIRONMENT '${environment}'. Use one of: ${ENVIRONMENTS.join(", ")}.`);
  }
}

/**
 * The online store: a RedisOnlineStore when REDIS_URL is set, else a LocalOnlineStore (LMDB, no
 * server) in ./online_store (or the ONLINE_STORE environment variable).
 */
export function getOnlineStore(): OnlineStore {
  const url = process.env.REDIS_URL;
  return url ? new RedisOnlineStore({ url }) : new LocalOnlineStore(process.env.ONLINE_STORE ?? "./online_store");
}
