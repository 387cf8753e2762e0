import type { EngineOptions } from "./engine";
import type { Feature } from "./feature";
import type { OfflineStore } from "./offline-store";
import type { SourceProviders } from "./source-provider";

/**
 * What every operation of one `Definitions` shares: its features, stores, DuckDB settings, source
 * providers and the directory relative paths resolve from. Build, read, training data and the
 * online sync take a session, never a `Definitions`, so each stays a plain function of its inputs.
 */
export interface Session {
  /** The project name, recorded in every metadata document. */
  readonly definitions: string;
  readonly features: readonly Feature[];
  readonly offlineStore: OfflineStore;
  readonly engineOptions: EngineOptions;
  readonly sources: SourceProviders;
  /** Absolute directory that relative source and entity paths resolve from. */
  readonly baseDirectory: string;
  /** How many versions of each feature a build keeps, the current one included (0: none; Infinity: all). */
  readonly keepVersions: number;
}
