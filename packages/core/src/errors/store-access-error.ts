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
  /** Set when the store refused the credentials for this operation. */
  readonly reason: StoreAccessReason | undefined;

  constructor(message: string, options?: { cause?: unknown; reason?: StoreAccessReason }) {
    super(message, options);
    this.name = "StoreAccessError";
    this.reason = options?.reason;
  }

  /** True for a `StoreAccessError` from any copy of `@mlforge/core`. */
  static isInstance(error: unknown): error is StoreAccessError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
