import { MlforgeError } from "./mlforge-error";

const marker = Symbol.for("mlforge.error.TagNotFoundError");

/** A selection named a tag that no feature of the `Definitions` carries (a typo would otherwise select nothing). */
export class TagNotFoundError extends MlforgeError {
  private readonly [marker] = true;
  override readonly name: string = "TagNotFoundError";

  constructor(
    /** The tags no feature has. */
    readonly missing: readonly string[],
    /** Every tag some feature has, in definition order. */
    readonly known: readonly string[],
  ) {
    const list = missing.map((tag) => `'${tag}'`).join(", ");
    super(
      `${missing.length === 1 ? "Tag" : "Tags"} ${list} ${missing.length === 1 ? "is" : "are"} not on any feature. ` +
        `Known tags: ${known.length > 0 ? known.join(", ") : "(none)"}.`,
    );
  }

  /** True for a `TagNotFoundError`, even one thrown by another copy of `@mlforge/core`. */
  static override isInstance(error: unknown): error is TagNotFoundError {
    return MlforgeError.hasMarker(error, "mlforge.error.TagNotFoundError");
  }
}
