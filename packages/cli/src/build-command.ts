import { MlforgeError, type BuildResult } from "@mlforge/core";
import { buildResultToJson, formatBuildSummary } from "./build-summary";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { createProgressReporter } from "./progress";

/** True for the `BuildError` of any copy of `@mlforge/core` (the user's file may load its own). */
function isBuildError(error: unknown): error is MlforgeError & { result: BuildResult } {
  return MlforgeError.isInstance(error) && error.name === "BuildError" && typeof (error as { result?: unknown }).result === "object";
}

/** `mlforge build`: builds the selected features, reports progress on stderr and a summary on stdout. */
export async function buildCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout, stderr } = context;
  const progress = createProgressReporter(stderr);
  let result: BuildResult;
  try {
    result = await definitions.build({
      features: args.features,
      tags: args.tags,
      force: args.force,
      onProgress: (event) => progress.onProgress(event),
      signal: context.signal,
    });
  } catch (error) {
    if (!isBuildError(error)) throw error;
    result = error.result;
  } finally {
    progress.finish();
  }
  const order = definitions.features.map((item) => item.name);
  stdout.write(args.json ? `${JSON.stringify(buildResultToJson(result), null, 2)}\n` : formatBuildSummary(result, order));
  return result.failed.length > 0 ? EXIT_CODES.failure : EXIT_CODES.success;
}
