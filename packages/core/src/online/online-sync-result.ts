import type { MlforgeError } from "../errors/mlforge-error";

/** What happened to one feature in an online sync. */
export type FeatureSyncStatus = "synced" | "skipped" | "failed";

/** The outcome of one feature in `syncOnline()`. */
export interface FeatureSyncResult {
  name: string;
  status: FeatureSyncStatus;
  /** The offline build now served (for failed: the build the sync tried, or "" when unknown). */
  buildId: string;
  /** Rows (entities) written (for skipped: as last synced; failed: 0). */
  rows: number;
  durationMs: number;
  /** Why it failed. */
  error?: MlforgeError;
}

/** The outcome of `Definitions.syncOnline()`. */
export interface OnlineSyncResult {
  synced: FeatureSyncResult[];
  skipped: FeatureSyncResult[];
  failed: FeatureSyncResult[];
  durationMs: number;
}

/** Progress of a sync, one event as each feature starts and ends. */
export type OnlineSyncProgressEvent =
  | { type: "start"; name: string; index: number; total: number }
  | { type: "end"; name: string; index: number; total: number; result: FeatureSyncResult };
