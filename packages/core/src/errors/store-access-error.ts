import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.StoreAccessError");

/** Why a store refused, where core acts on it. */
export type StoreAccessReason = "access-denied";

/**
 * A store cannot be reached, read or written. `reason: "access-denied"` marks a refusal of the
 * credentials (HTTP 403), which core may treat as "cannot tell" where that is safe; any other
 * failure is an outage or a misconfiguration, and surfaces.
 */
export class StoreAccessError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "StoreAccessError";
  /** The store that failed, such as "LocalStore at /srv/features" or "S3Store s3://bucket/prefix"; never a secret. */
  readonly store: string | undefined;
  /** What the store was doing, such as "putFile" or "check". */
  readonly operation: string | undefined;
  /** Set when the store refused the credentials for this operation. */
  readonly reason: StoreAccessReason | undefined;

  constructor(message: string, options?: { cause?: unknown; store?: string; operation?: string; reason?: StoreAccessReason }) {
    super(message, options);
    this.store = options?.store;
    this.operation = options?.operation;
    this.reason = options?.reason;
  }

  /** True for a `StoreAccessError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is StoreAccessError {
    return MlforgeError.hasMarker(error, "mlforge.error.StoreAccessError");
  }
}
