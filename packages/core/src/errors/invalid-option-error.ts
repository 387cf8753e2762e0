import { FeatureDefinitionError } from "./feature-definition-error";
import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.InvalidOptionError");

/**
 * An option that a function, method or constructor does not know, or of the wrong type. A
 * `FeatureDefinitionError`, as option mistakes were before this class existed.
 */
export class InvalidOptionError extends FeatureDefinitionError {
  private readonly [marker] = true;
  override readonly name: string = "InvalidOptionError";

  constructor(
    message: string,
    /** Who takes the options: "build", "S3Store", "Feature 'user_spend'"… */
    readonly owner: string,
    /** The options given that were wrong; empty when the options were not an object at all. */
    readonly options: readonly string[],
  ) {
    super(message);
  }

  /**
   * True for an `InvalidOptionError`, even one thrown by another copy of `@mlforge/core`, and for
   * the option errors of `getTrainingData` and `S3Store`, which stay `TrainingDataError` and
   * `StoreAccessError` for compatibility but carry this class's marker.
   */
  static override isInstance(error: unknown): error is InvalidOptionError {
    return MlforgeError.hasMarker(error, "mlforge.error.InvalidOptionError");
  }
}
