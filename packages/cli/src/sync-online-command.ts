import { OnlineSyncError, type OnlineSyncResult } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { createProgressReporter, SYNC_WORDING } from "./progress";
import { formatSyncSummary, syncResultToJson } from "./sync-summary";

/**
 * `mlforge sync-online`: syncs the offline store's current builds of the selected features into the
 * online store (nothing is rebuilt), with progress on stderr and a summary on stdout.
 */
export async function syncOnlineCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout, stderr } = context;
  const progress = createProgressReporter(stderr, SYNC_WORDING);
  let result: OnlineSyncResult;
  try {
    result = await definitions.syncOnline({
      features: args.features,
      tags: args.tags,
      force: args.force,
      onProgress: (event) => progress.onProgress(event),
      signal: context.signal,
    });
  } catch (error) {
    // By marker: the user's file may load its own copy of @mlforge/core.
    if (!OnlineSyncError.isInstance(error)) throw error;
    result = error.result;
  } finally {
    progress.finish();
  }
  const order = definitions.features.map((item) => item.name);
  stdout.write(args.json ? `${JSON.stringify(syncResultToJson(result), null, 2)}\n` : formatSyncSummary(result, order));
  return result.failed.length > 0 ? EXIT_CODES.failure : EXIT_CODES.success;
}
