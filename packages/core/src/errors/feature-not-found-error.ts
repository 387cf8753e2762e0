import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureNotFoundError");

/** A feature name was asked for that the `Definitions` does not hold. */
export class FeatureNotFoundError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureNotFoundError";

  constructor(
    /** The names that were not found. */
    readonly missing: readonly string[],
    /** Every feature name the `Definitions` holds. */
    readonly available: readonly string[],
  ) {
    const list = missing.map((name) => `'${name}'`).join(", ");
    super(
      `${missing.length === 1 ? "Feature" : "Features"} ${list} ${missing.length === 1 ? "is" : "are"} not defined. ` +
        `Available: ${available.length > 0 ? available.join(", ") : "(none)"}.`,
    );
  }

  /** True for a `FeatureNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureNotFoundError");
  }
}
