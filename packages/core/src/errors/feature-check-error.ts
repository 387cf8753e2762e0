import type { CheckResult } from "../checks";
import { FeatureBuildError } from "./feature-build-error";
import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureCheckError");

/** A feature's output failed error-severity checks; nothing was published and the previous version stays. */
export class FeatureCheckError extends FeatureBuildError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureCheckError";

  constructor(
    feature: string,
    message: string,
    /** Every check's result, the failed ones included. */
    readonly checks: readonly CheckResult[],
  ) {
    super(feature, message);
  }

  /** True for a `FeatureCheckError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureCheckError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureCheckError");
  }
}
