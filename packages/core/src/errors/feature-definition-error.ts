import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureDefinitionError");

/** A feature or a `Definitions` was declared wrongly: bad or duplicate name, no keys, no source. */
export class FeatureDefinitionError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureDefinitionError";

  /** True for a `FeatureDefinitionError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureDefinitionError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureDefinitionError");
  }
}
