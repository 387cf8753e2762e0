import type { Feature } from "./feature";

/** A job's first stage done, its second still to run: `publish()` may overlap the next feature's job. */
export interface StagedJob<Entry> {
  /** Completes the job (for a build: uploads the staged file); runs while the next feature's job runs. */
  publish(): Promise<Entry>;
}

/** Progress of a run of feature jobs, one event as each feature starts and ends. */
export type FeatureJobEvent<Entry> =
  | { type: "start"; name: string; index: number; total: number }
  | { type: "end"; name: string; index: number; total: number; result: Entry };

/** How `runFeatureJobs()` runs one job per feature. */
export interface FeatureJobs<Entry> {
  /** The features, run one after the other in this order. */
  features: readonly Feature[];
  /** One feature's work: its entry, or a second stage to run while the next feature's job runs. */
  job: (feature: Feature, index: number) => Promise<Entry | StagedJob<Entry>>;
  /** The entry of a feature whose job (or second stage) threw `error`, `durationMs` after it started. */
  failed: (feature: Feature, error: unknown, durationMs: number) => Entry;
  /** Called as each feature starts and ends. */
  onProgress: ((event: FeatureJobEvent<Entry>) => void) | undefined;
  /**
   * Checked before each feature; an abort during a job or a second stage rejects with the signal's
   * reason instead of recording a failure. A second stage that rejects with another error once
   * aborted still ends as failed (its end event tells what it left behind). @default none
   */
  signal: AbortSignal | undefined;
}

function isStaged<Entry>(outcome: Entry | StagedJob<Entry>): outcome is StagedJob<Entry> {
  return typeof outcome === "object" && outcome !== null && typeof (outcome as Partial<StagedJob<Entry>>).publish === "function";
}

/**
 * Runs one job per feature, in order, so that one feature's failure does not stop the others: a
 * thrown error becomes that feature's failed entry. At most one second stage runs at a time, beside
 * the next feature's job, and none is left running when this settles, even when aborted. Resolves
 * to the entries in the features' order.
 */
export async function runFeatureJobs<Entry>(jobs: FeatureJobs<Entry>): Promise<Entry[]> {
  const { features, signal, onProgress } = jobs;
  const total = features.length;
  const entries: Entry[] = [];
  const finish = (feature: Feature, index: number, entry: Entry) => {
    entries[index] = entry;
    onProgress?.({ type: "end", name: feature.name, index, total, result: entry });
  };
  let publishing: Promise<void> = Promise.resolve();
  try {
    for (const [index, feature] of features.entries()) {
      signal?.throwIfAborted();
      onProgress?.({ type: "start", name: feature.name, index, total });
      const started = performance.now();
      try {
        const outcome = await jobs.job(feature, index);
        if (isStaged(outcome)) {
          await publishing;
          publishing = outcome.publish().then(
            (entry) => finish(feature, index, entry),
            (error: unknown) => {
              // Stopped by the signal is no failure of the feature. Any other error is reported,
              // even once aborted: it says what the stopped publish could not clean up.
              if (signal?.aborted && error === signal.reason) return;
              finish(feature, index, jobs.failed(feature, error, performance.now() - started));
            },
          );
        } else finish(feature, index, outcome);
      } catch (error) {
        signal?.throwIfAborted();
        finish(feature, index, jobs.failed(feature, error, performance.now() - started));
      }
    }
  } finally {
    // Never leave a second stage running behind the caller's back, even when aborted.
    await publishing;
  }
  // Aborted while the last second stage ran: the run was stopped all the same.
  signal?.throwIfAborted();
  return entries;
}
