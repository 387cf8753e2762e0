import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.SourceNotFoundError");

/** A feature's source file, glob or object matched nothing. */
export class SourceNotFoundError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "SourceNotFoundError";

  constructor(
    /** The source as the feature declares it. */
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** True for a `SourceNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is SourceNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.SourceNotFoundError");
  }
}
