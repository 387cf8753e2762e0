import { FeatureNotBuiltError } from "./feature-not-built-error";

/** Online features were asked for that were never synced to the online store; a `FeatureNotBuiltError` for the online store. */
export class FeatureNotSyncedError extends FeatureNotBuiltError {
  constructor(
    features: readonly string[],
    /** The online store's description. */
    location: string,
  ) {
    super(features, location);
    const list = features.map((name) => `'${name}'`).join(", ");
    const plural = features.length !== 1;
    this.message =
      `${plural ? "Features" : "Feature"} ${list} ${plural ? "have" : "has"} not been synced to the online store (${location}). ` +
      `Sync ${plural ? "them" : "it"} first: run \`mlforge sync-online --features ${features.join(",")}\` ` +
      `or call \`await defs.syncOnline({ features: [${features.map((name) => `"${name}"`).join(", ")}] })\` (after building).`;
  }
}
