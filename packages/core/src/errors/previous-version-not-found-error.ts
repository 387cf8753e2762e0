import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.PreviousVersionNotFoundError");

/** The version before the current one of a feature was asked for (a diff's default), and the offline store keeps none. */
export class PreviousVersionNotFoundError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "PreviousVersionNotFoundError";

  constructor(
    /** The feature. */
    readonly feature: string,
    /** The build id of its current version. */
    readonly current: string,
    /** Build ids the store keeps for the feature, newest first (the current one included). */
    readonly known: readonly string[],
  ) {
    const newer = known.filter((buildId) => buildId !== current);
    super(
      newer.length === 0
        ? `Feature '${feature}' has one version only (${current}, the current one): there is nothing to compare it with. ` +
            `Every build keeps a version (\`keepVersions\` in new Definitions({ … }), 10 by default; 0 or 1 keep no older one): ` +
            `build the feature again after a change (mlforge build --features ${feature}) and compare then.`
        : `Feature '${feature}' keeps no version older than the current one (${current}, restored by a rollback): there is nothing before it to compare with. ` +
            `Name the build to compare it with, one of: ${newer.join(", ")} (mlforge diff ${feature} ${current} ${newer[0]!}).`,
    );
  }

  /** True for a `PreviousVersionNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is PreviousVersionNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.PreviousVersionNotFoundError");
  }
}
