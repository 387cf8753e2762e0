import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.FeatureRollbackError");

/** Why a rollback was refused. */
export type FeatureRollbackProblem = "already-current" | "no-previous";

/**
 * A rollback that cannot be done: the version asked for is already the current one, or
 * `{ to: "previous" }` was asked and no kept version is older than the current one. (An unknown
 * version is a `FeatureVersionNotFoundError`.)
 */
export class FeatureRollbackError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "FeatureRollbackError";

  constructor(
    /** The feature. */
    readonly feature: string,
    /** What was wrong. */
    readonly problem: FeatureRollbackProblem,
    /** The build id of the current version. */
    readonly current: string,
    /** Build ids the store keeps for the feature, newest first (the current one included). */
    readonly known: readonly string[],
  ) {
    const listing = known.map((id) => (id === current ? `${id} (current)` : id)).join(", ");
    const other = known.find((id) => id !== current);
    const hint = other === undefined ? "" : ` Roll back to another one with rollback("${feature}", { to: "${other}" }) (mlforge rollback ${feature} --to ${other}).`;
    super(
      problem === "already-current"
        ? `Feature '${feature}' is already at version '${current}': it is the current one, so there is nothing to roll back. Kept versions, newest first: ${listing}.${hint}`
        : `Feature '${feature}' has no kept version older than the current one ('${current}') to roll back to. Kept versions, newest first: ${listing}.${hint}` +
            (other === undefined ? " Builds keep their versions with `keepVersions` (new Definitions({ keepVersions: 10 }), the default): build again, then roll back." : ""),
    );
  }

  /** True for a `FeatureRollbackError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is FeatureRollbackError {
    return MlforgeError.hasMarker(error, "mlforge.error.FeatureRollbackError");
  }
}
