import { rm } from "node:fs/promises";
import type { FeatureBuildResult } from "./build-result";
import { planBuild } from "./build/build-plan";
import { publishStaged } from "./build/publish";
import { currentBuild } from "./build/skip";
import { stageFeature } from "./build/stage-feature";
import type { Engine } from "./engine";
import type { Feature } from "./feature";
import type { Session } from "./session";

export { newBuildId } from "./build/build-id";

/** What `buildFeature` needs from its caller. */
export interface BuildContext {
  session: Session;
  /** The build's engine (remote source objects are downloaded to `session.engineOptions.tempDirectory`). */
  engine: Engine;
  force: boolean;
  /** Stops the build between its steps (a running query is interrupted through the engine, an upload through the store). @default none */
  signal?: AbortSignal;
}

/**
 * A feature computed into a staged Parquet file and validated, not yet in the store. Publishing
 * (an upload, for a remote store) may overlap the next feature's computation.
 */
export interface ComputedFeature {
  /** Puts the staged file into the store, then its metadata; removes the staged file either way. Rejects with the signal's reason once aborted. */
  publish(): Promise<FeatureBuildResult>;
}

/**
 * Computes one feature, or skips it (a result) when its fingerprint is unchanged: plans (source,
 * SQL, fingerprint), decides whether to skip, then computes and validates into a staged file that
 * `publish()` puts into the store.
 */
export async function buildFeature(feature: Feature, context: BuildContext): Promise<FeatureBuildResult | ComputedFeature> {
  const started = performance.now();
  const { engine, session } = context;
  const store = session.offlineStore;
  context.signal?.throwIfAborted();
  const plan = await planBuild(feature, session, engine);

  // Decided before anything is downloaded: an unchanged remote source costs one listing.
  if (!context.force) {
    const current = await currentBuild(store, engine, feature, plan.fingerprint);
    if (current !== undefined) {
      const { rows, bytes } = current.metadata;
      const note = current.note === undefined ? {} : { note: current.note };
      const checks = current.metadata.checks === undefined ? {} : { checks: current.metadata.checks };
      return { name: feature.name, status: "skipped", rows, bytes, uri: current.uri, durationMs: performance.now() - started, ...note, ...checks };
    }
  }

  const { signal } = context;
  const staged = await stageFeature(feature, session, engine, { plan, signal });
  return {
    publish: async () => {
      // Stopped while the previous feature was being published: nothing of this one goes out.
      if (signal?.aborted) {
        await rm(staged.path, { force: true });
        throw signal.reason;
      }
      const { stored, durationMs, note } = await publishStaged(store, engine, staged, started, { keepVersions: session.keepVersions, ...(signal === undefined ? {} : { signal }) });
      const checks = staged.checks.length === 0 ? {} : { checks: staged.checks };
      return { name: feature.name, status: "built", rows: staged.file.rows, bytes: stored.bytes, uri: stored.uri, durationMs, ...checks, ...(note === undefined ? {} : { note }) };
    },
  };
}
