import type { BuildResult } from "../build-result";
import { MlforgeError } from "./mlforge-error";

/** `build()` finished with at least one failed feature; `result` holds every feature's outcome. */
export class BuildError extends MlforgeError {
  constructor(readonly result: BuildResult) {
    const failed = result.failed.map((entry) => `  - ${entry.name}: ${entry.error?.message ?? "unknown error"}`);
    super(
      `${result.failed.length} of ${result.built.length + result.skipped.length + result.failed.length} features failed to build ` +
        `(${result.built.length} built, ${result.skipped.length} skipped):\n${failed.join("\n")}`,
    );
  }
}
