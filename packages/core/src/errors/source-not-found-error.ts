import { MlforgeError } from "./mlforge-error";

/** A feature's source file, glob or object matched nothing. */
export class SourceNotFoundError extends MlforgeError {
  constructor(
    /** The source as the feature declares it. */
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
