import { FeatureNotBuiltError } from "./feature-not-built-error";
import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureNotSyncedError");

/** Online features were asked for that were never synced to the online store; a `FeatureNotBuiltError` for the online store. */
export class FeatureNotSyncedError extends FeatureNotBuiltError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureNotSyncedError";

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

  /** True for a `FeatureNotSyncedError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureNotSyncedError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureNotSyncedError");
  }
}
