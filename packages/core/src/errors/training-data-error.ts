import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.TrainingDataError");

/** `getTrainingData` cannot join these entities and features: a missing or clashing column, bad options or entity rows. */
export class TrainingDataError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "TrainingDataError";

  /** True for a `TrainingDataError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is TrainingDataError {
    return MlforgeError.hasMarker(error, "mlforge.error.TrainingDataError");
  }
}
