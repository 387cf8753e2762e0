const marker = Symbol.for("mlforge.error");

/** Base class of every error mlforge throws; `MlforgeError.isInstance(error)` works across duplicate installs. */
export class MlforgeError extends Error {
  private readonly [marker] = true;
  // A literal, not `new.target.name`: minifiers rename classes. Every subclass sets its own.
  override readonly name: string = "MlforgeError";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  /** True for any mlforge error, even one thrown by another copy of `@mlforge/core`. */
  static isInstance(error: unknown): error is MlforgeError {
    return MlforgeError.hasMarker(error, "mlforge.error");
  }

  /** True when `error` carries the `Symbol.for(marker)` mark that each error class sets on its instances. */
  protected static hasMarker(error: unknown, marker: string): boolean {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[Symbol.for(marker)] === true;
  }
}
