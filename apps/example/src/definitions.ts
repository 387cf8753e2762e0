import { Definitions, type OfflineStore } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import * as features from "./features";

/** The values ENVIRONMENT may take. */
export const ENVIRONMENTS = ["local", "dev", "staging", "prod"] as const;

/**
 * The offline store of an environment: `local` writes to ./feature_store (or the FEATURE_STORE
 * environment variable); `dev`, `staging` and `prod` are S3 buckets.
 * @param environment @default process.env.ENVIRONMENT ?? "local"
 */
export function getStore(environment: string = process.env.ENVIRONMENT ?? "local"): OfflineStore {
  switch (environment) {
    case "local":
      return new LocalStore(process.env.FEATURE_STORE ?? "./feature_store");
    case "dev":
    case "staging":
    case "prod": {
      // Will be: dev → S3Store({ bucket: "mlforge-features", prefix: "dev/features" }),
      // staging → prefix "staging/features", prod → S3Store({ bucket: "mlforge-features-prod", prefix: "features" }).
      throw new Error(
        `ENVIRONMENT '${environment}' stores features in S3, but S3Store is not available in this example yet (it arrives with @mlforge/store-s3). ` +
          "Use ENVIRONMENT=local for now.",
      );
    }
    default:
      throw new Error(`Unknown ENVIRONMENT '${environment}'. Use one of: ${ENVIRONMENTS.join(", ")}.`);
  }
}

/** The project's features and the store of the current ENVIRONMENT. */
export const defs = new Definitions({
  name: "user-features",
  features: [features],
  offlineStore: getStore(),
});
