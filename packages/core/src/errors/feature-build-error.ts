import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureBuildError");

/** One feature failed to build; the message names the feature and carries the engine's message. */
export class FeatureBuildError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureBuildError";

  constructor(
    /** The feature that failed. */
    readonly feature: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Feature '${feature}' failed to build: ${message}`, options);
  }

  /** True for a `FeatureBuildError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureBuildError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureBuildError");
  }
}
