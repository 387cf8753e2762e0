import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.StoreAccessError");

/** The offline store cannot be reached, read or written. */
export class StoreAccessError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "StoreAccessError";
  /** The store that failed, such as "LocalStore at /srv/features" or "S3Store s3://bucket/prefix"; never a secret. */
  readonly store: string | undefined;
  /** What the store was doing, such as "putFeature" or "check". */
  readonly operation: string | undefined;

  constructor(message: string, options?: { cause?: unknown; store?: string; operation?: string }) {
    super(message, options);
    this.store = options?.store;
    this.operation = options?.operation;
  }

  /** True for a `StoreAccessError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is StoreAccessError {
    return MlforgeError.hasMarker(error, "mlforge.error.StoreAccessError");
  }
}
