import type { OnlineSyncResult } from "../online/online-sync-result";
import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.OnlineSyncError");

/** `syncOnline()` finished with at least one failed feature; `result` holds every feature's outcome. */
export class OnlineSyncError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "OnlineSyncError";

  constructor(readonly result: OnlineSyncResult) {
    const failed = result.failed.map((entry) => `  - ${entry.name}: ${entry.error?.message ?? "unknown error"}`);
    super(
      `${result.failed.length} of ${result.synced.length + result.skipped.length + result.failed.length} features failed to sync to the online store ` +
        `(${result.synced.length} synced, ${result.skipped.length} skipped); readers keep the previous build of each:\n${failed.join("\n")}`,
    );
  }

  /** True for an `OnlineSyncError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is OnlineSyncError {
    return MlforgeError.hasMarker(error, "mlforge.error.OnlineSyncError");
  }
}
