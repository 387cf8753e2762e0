import type { CheckResult } from "./checks";
import type { MlforgeError } from "./errors/mlforge-error";
import type { OnlineSyncResult } from "./online/online-sync-result";

/** What happened to one feature in a build. */
export type FeatureStatus = "built" | "skipped" | "failed";

/** The outcome of one feature in a build. */
export interface FeatureBuildResult {
  name: string;
  status: FeatureStatus;
  /** Rows in the stored feature (for skipped: as last built; failed: 0). */
  rows: number;
  /** Bytes of the stored Parquet file (as for rows). */
  bytes: number;
  /** Where the feature is stored (empty when failed). */
  uri: string;
  durationMs: number;
  /** Why it failed. */
  error?: MlforgeError;
  /** Something the build noticed and repaired, to tell the user (a malformed metadata document rewritten from the data file's footer). */
  note?: string;
  /** The results of the feature's checks (for skipped: as last built), when it has any. */
  checks?: CheckResult[];
}

/** The outcome of `Definitions.build()`. */
export interface BuildResult {
  built: FeatureBuildResult[];
  skipped: FeatureBuildResult[];
  failed: FeatureBuildResult[];
  durationMs: number;
  /** With `build({ online: true })`: the sync of the selected features to the online store. */
  online?: OnlineSyncResult;
}

/** Progress of a build, one event as each feature starts and ends. */
export type BuildProgressEvent =
  | { type: "start"; name: string; index: number; total: number }
  | { type: "end"; name: string; index: number; total: number; result: FeatureBuildResult };

/** The outcome of one feature in `Definitions.validate()`. */
export interface FeatureValidationResult {
  name: string;
  /** "failed" when the transform, the output's keys or an error-severity check failed. */
  status: "passed" | "failed";
  /** Rows of the output (0 when it could not be computed). */
  rows: number;
  /** The result of each of the feature's checks (empty when it has none or could not be computed). */
  checks: CheckResult[];
  durationMs: number;
  /** Why it failed. */
  error?: MlforgeError;
}

/** The outcome of `Definitions.validate()`: nothing is published. */
export interface ValidationResult {
  features: FeatureValidationResult[];
  /** True when every feature passed (warnings allowed). */
  passed: boolean;
  durationMs: number;
}
