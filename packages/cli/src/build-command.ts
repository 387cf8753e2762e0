import { BuildError, OnlineSyncError, type BuildResult, type FeatureBuildResult } from "@mlforge/core";
import { buildResultToJson, formatBuildSummary, formatFailures } from "./build-summary";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { createProgressReporter } from "./progress";
import { shardFeatures } from "./shard";
import { formatSyncSummary, syncResultToJson } from "./sync-summary";

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/** The build part of a result from its features' end events, for when `build({ online: true })` rejects in its sync part. */
function resultOf(entries: readonly FeatureBuildResult[], durationMs: number): BuildResult {
  const result: BuildResult = { built: [], skipped: [], failed: [], durationMs };
  for (const entry of entries) result[entry.status].push(entry);
  return result;
}

/**
 * `mlforge build`: builds the selected features (or, with `--shard`, this shard's share of them),
 * reports progress on stderr and a summary on stdout; with `--online`, then syncs them to the
 * online store and summarises that too.
 */
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
  const online = args.online;
  // With --online, core's build() rejects in its sync part without the build's result: the end
  // events carry it. The build part is over once every selected feature has ended.
  const expected = online ? definitions.select(selection).length : 0;
  const ended: FeatureBuildResult[] = [];
  const started = performance.now();
  let result: BuildResult;
  let syncError: unknown;
  try {
    result = await definitions.build({
      ...selection,
      force: args.force,
      online,
      onProgress: (event) => {
        progress.onProgress(event);
        if (event.type !== "end") return;
        ended.push(event.result);
        if (online && ended.length === expected && !ended.some((entry) => entry.status === "failed")) {
          progress.finish();
          stderr.write(`Syncing ${plural(expected, "feature")} to the online store…\n`);
        }
      },
      signal: context.signal,
    });
  } catch (error) {
    // By marker: the user's file may load its own copy of @mlforge/core.
    if (BuildError.isInstance(error)) result = error.result;
    else if (online && ended.length === expected && !context.signal?.aborted) {
      result = resultOf(ended, performance.now() - started);
      if (OnlineSyncError.isInstance(error)) result.online = error.result;
      else syncError = error;
    } else {
      // Stopped by a signal: no summary, but what failed (such as an upload that could not be
      // aborted, left in the bucket) is said before the interruption is.
      if (context.signal?.aborted) {
        progress.finish();
        stderr.write(formatFailures(ended));
      }
      throw error;
    }
  } finally {
    progress.finish();
  }
  const order = definitions.features.map((item) => item.name);
  const synced = result.online;
  if (args.json) {
    const document = { ...shardJson, ...buildResultToJson(result), ...(online ? { online: synced === undefined ? null : syncResultToJson(synced) } : {}) };
    stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    let text = `${shardNote}${formatBuildSummary(result, order)}`;
    if (synced !== undefined) text += `\nOnline store:\n${formatSyncSummary(synced, order)}`;
    else if (online && syncError === undefined) text += "\nNothing was synced to the online store: a feature failed to build. Fix it and run `mlforge build --online` again.\n";
    stdout.write(text);
  }
  // The build part is reported above; the store's error is reported as any other.
  if (syncError !== undefined) throw syncError;
  if (synced !== undefined && synced.failed.length > 0) return EXIT_CODES.failure;
  return result.failed.length > 0 ? EXIT_CODES.failure : EXIT_CODES.success;
}
