import { MlforgeError } from "./mlforge-error";
import { TrainingDataError } from "./training-data-error";

const marker = Symbol.for("mlforge.error.EntityRowsMismatchError");

/**
 * `getTrainingData({ reproduce })` was given entity rows other than those the training set was made
 * from: their fingerprint (rows, columns, values and order) differs from the manifest's. A
 * `TrainingDataError`, like every other problem with the entity rows.
 */
export class EntityRowsMismatchError extends TrainingDataError {
  private readonly [marker] = true;
  override readonly name: string = "EntityRowsMismatchError";

  constructor(
    message: string,
    /** The training set file being reproduced, as given. */
    readonly file: string,
    /** The entity rows' fingerprint its manifest records. */
    readonly expected: string,
    /** The fingerprint of the entity rows given. */
    readonly actual: string,
  ) {
    super(message);
  }

  /** True for an `EntityRowsMismatchError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is EntityRowsMismatchError {
    return MlforgeError.hasMarker(error, "mlforge.error.EntityRowsMismatchError");
  }
}
