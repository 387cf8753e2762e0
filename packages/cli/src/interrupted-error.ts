const marker = Symbol.for("mlforge.cli.InterruptedError");

/** The abort reason the `mlforge` binary gives when a signal stops the running command. */
export class InterruptedError extends Error {
  private readonly [marker] = true;
  override readonly name: string = "InterruptedError";

  constructor(
    /** The signal that stopped the command. */
    readonly signal: "SIGINT" | "SIGTERM",
  ) {
    super(signal === "SIGINT" ? "Interrupted by Ctrl-C." : "Terminated by SIGTERM.");
  }

  /** True for an `InterruptedError`, even from another copy of the CLI. */
  static isInstance(error: unknown): error is InterruptedError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
