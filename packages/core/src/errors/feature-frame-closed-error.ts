import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureFrameClosedError");

/** A `FeatureFrame` was used after `close()`, which removed the temporary files it reads. */
export class FeatureFrameClosedError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureFrameClosedError";

  constructor() {
    super("This FeatureFrame was closed and its temporary files removed. Use it before calling close() (or leaving its `await using` block), or get a new frame.");
  }

  /** True for a `FeatureFrameClosedError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureFrameClosedError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureFrameClosedError");
  }
}
