import { BuildError, type BuildResult } from "@mlforge/core";
import { buildResultToJson, formatBuildSummary } from "./build-summary";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { createProgressReporter } from "./progress";
import { shardFeatures } from "./shard";

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** `mlforge build`: builds the selected features (or, with `--shard`, this shard's share of them), reports progress on stderr and a summary on stdout. */
export async function buildCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout, stderr } = context;
  const { shard } = args;
  let selection: { features?: string[]; tags?: string[] } = { features: args.features, tags: args.tags };
  let shardNote = "";
  let shardJson: Record<string, unknown> = {};
  if (shard !== undefined) {
    // Selected first, then split: every shard must be given the same --features and --tags.
    const selected = definitions.select(selection).map((item) => item.name);
    const names = shardFeatures(selected, shard);
    selection = { features: names };
    shardJson = { shard: { index: shard.index, count: shard.count, features: names } };
    shardNote = `Shard ${shard.index}/${shard.count}: ${names.length} of ${plural(selected.length, "selected feature")}.\n`;
    if (names.length === 0) {
      const empty: BuildResult = { built: [], skipped: [], failed: [], durationMs: 0 };
      stdout.write(
        args.json
          ? `${JSON.stringify({ ...shardJson, ...buildResultToJson(empty) }, null, 2)}\n`
          : `Shard ${shard.index}/${shard.count} has no features to build (${plural(selected.length, "selected feature")} over ${shard.count} shards); nothing to do.\n`,
      );
      return EXIT_CODES.success;
    }
  }
  const progress = createProgressReporter(stderr);
  let result: BuildResult;
  try {
    result = await definitions.build({
      ...selection,
      force: args.force,
      onProgress: (event) => progress.onProgress(event),
      signal: context.signal,
    });
  } catch (error) {
    // By marker: the user's file may load its own copy of @mlforge/core.
    if (!BuildError.isInstance(error)) throw error;
    result = error.result;
  } finally {
    progress.finish();
  }
  const order = definitions.features.map((item) => item.name);
  stdout.write(
    args.json ? `${JSON.stringify({ ...shardJson, ...buildResultToJson(result) }, null, 2)}\n` : `${shardNote}${formatBuildSummary(result, order)}`,
  );
  return result.failed.length > 0 ? EXIT_CODES.failure : EXIT_CODES.success;
}
