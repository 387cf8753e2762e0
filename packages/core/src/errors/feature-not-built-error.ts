import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureNotBuiltError");

/** Features were asked for that are defined but have no data in the offline store yet. */
export class FeatureNotBuiltError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureNotBuiltError";

  constructor(
    /** The features that were never built. */
    readonly features: readonly string[],
    /** Where the store keeps features (a directory or an `s3://` URI). */
    readonly location: string,
  ) {
    const list = features.map((name) => `'${name}'`).join(", ");
    const plural = features.length !== 1;
    super(
      `${plural ? "Features" : "Feature"} ${list} ${plural ? "have" : "has"} not been built into the offline store (${location}). ` +
        `Build ${plural ? "them" : "it"} first: run \`mlforge build --features ${features.join(",")}\` ` +
        `or call \`await defs.build({ features: [${features.map((name) => `"${name}"`).join(", ")}] })\`.`,
    );
  }

  /** True for a `FeatureNotBuiltError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureNotBuiltError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureNotBuiltError");
  }
}
