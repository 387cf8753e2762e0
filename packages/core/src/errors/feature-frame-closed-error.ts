import { MlforgeError } from "./mlforge-error";

/** A `FeatureFrame` was used after `close()`, which removed the temporary files it reads. */
export class FeatureFrameClosedError extends MlforgeError {
  constructor() {
    super("This FeatureFrame was closed and its temporary files removed. Use it before calling close() (or leaving its `await using` block), or get a new frame.");
  }
}
