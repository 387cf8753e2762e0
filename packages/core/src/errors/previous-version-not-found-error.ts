import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.PreviousVersionNotFoundError");

/** How to get a version to compare with, given the definitions' `keepVersions`. */
function advice(feature: string, keepVersions: number): string {
  if (keepVersions === 0) return "Versions are off (keepVersions: 0): set `keepVersions` in new Definitions({ … }) to 2 or more (10 is the default) and build again.";
  if (keepVersions === 1) return "keepVersions: 1 keeps the current build alone: raise `keepVersions` in new Definitions({ … }) (10 is the default) and build again.";
  return `Every build keeps a version (\`keepVersions\`: ${String(keepVersions)}): build the feature again after a change (mlforge build --features ${feature}) and compare then.`;
}

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
    /** The definitions' `keepVersions`, for the advice. */
    keepVersions: number,
  ) {
    const newer = known.filter((buildId) => buildId !== current);
    super(
      newer.length === 0
        ? `Feature '${feature}' has one version only (${current}, the current one): there is nothing to compare it with. ${advice(feature, keepVersions)}`
        : `Feature '${feature}' keeps no version older than the current one (${current}, restored by a rollback): there is nothing before it to compare with. ` +
            `Name the build to compare it with, one of: ${newer.join(", ")} (mlforge diff ${feature} ${current} ${newer[0]!}).`,
    );
  }

  /** True for a `PreviousVersionNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is PreviousVersionNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.PreviousVersionNotFoundError");
  }
}
