import type { BuildResult } from "../build-result";
import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.BuildError");

/** `build()` finished with at least one failed feature; `result` holds every feature's outcome. */
export class BuildError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "BuildError";

  constructor(readonly result: BuildResult) {
    const failed = result.failed.map((entry) => `  - ${entry.name}: ${entry.error?.message ?? "unknown error"}`);
    super(
      `${result.failed.length} of ${result.built.length + result.skipped.length + result.failed.length} features failed to build ` +
        `(${result.built.length} built, ${result.skipped.length} skipped):\n${failed.join("\n")}`,
    );
  }

  /** True for a `BuildError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is BuildError {
    return MlforgeError.hasMarker(error, "mlforge.error.BuildError");
  }
}
