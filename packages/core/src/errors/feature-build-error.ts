import { MlforgeError } from "./mlforge-error";

/** One feature failed to build; the message names the feature and carries the engine's message. */
export class FeatureBuildError extends MlforgeError {
  constructor(
    /** The feature that failed. */
    readonly feature: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`Feature '${feature}' failed to build: ${message}`, options);
  }
}
