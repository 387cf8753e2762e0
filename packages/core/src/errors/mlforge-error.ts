const marker = Symbol.for("mlforge.error");

/** Base class of every error mlforge throws; `MlforgeError.isInstance(error)` works across duplicate installs. */
export class MlforgeError extends Error {
  private readonly [marker] = true;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }

  /** True for any mlforge error, even one thrown by another copy of `@mlforge/core`. */
  static isInstance(error: unknown): error is MlforgeError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
