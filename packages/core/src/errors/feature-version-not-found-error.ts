import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureVersionNotFoundError");

/** A version of a feature was asked for (a read, a pinned training set, a rollback) that the offline store does not keep. */
export class FeatureVersionNotFoundError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureVersionNotFoundError";

  constructor(
    /** The feature. */
    readonly feature: string,
    /** The build id that was asked for. */
    readonly version: string,
    /** Build ids the store keeps for the feature, newest first. */
    readonly known: readonly string[],
    /** Where the store keeps features (a directory or an `s3://` URI). */
    readonly location: string,
  ) {
    super(
      `Feature '${feature}' has no version '${version}' in the offline store (${location}). ` +
        (known.length === 0
          ? "It keeps no versions of it: build it first, and keep versions with `keepVersions` (new Definitions({ keepVersions: 10 }), the default)."
          : `Kept versions, newest first: ${known.join(", ")}. A version older than these was removed by retention: raise \`keepVersions\` in new Definitions({ … }) to keep more.`),
    );
  }

  /** True for a `FeatureVersionNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureVersionNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureVersionNotFoundError");
  }
}
