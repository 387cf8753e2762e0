import type { Feature, FeatureListing } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { formatCount, formatTable, formatTime } from "./format";

/** The plain, JSON-safe fields of a feature definition (its transform is left out). */
export function featureToJson(feature: Feature): Record<string, unknown> {
  return {
    name: feature.name,
    keys: [...feature.keys],
    timestamp: feature.timestamp ?? null,
    source: feature.source,
    description: feature.description ?? null,
    tags: [...feature.tags],
  };
}

/** The text table of `mlforge list`. */
export function formatListing(listing: readonly FeatureListing[]): string {
  if (listing.length === 0) return "No features defined.\n";
  return formatTable(
    [{ header: "name" }, { header: "keys" }, { header: "timestamp" }, { header: "tags" }, { header: "rows", align: "right" }, { header: "built at" }],
    listing.map(({ feature, metadata }) => [
      feature.name,
      feature.keys.join(", "),
      feature.timestamp ?? "-",
      feature.tags.length > 0 ? feature.tags.join(", ") : "-",
      metadata === undefined ? "-" : formatCount(metadata.rows),
      metadata === undefined ? "not built" : formatTime(metadata.builtAt),
    ]),
  );
}

/** `mlforge list`: every feature and whether it is built. */
export async function listCommand(context: CommandContext): Promise<number> {
  const listing = await context.definitions.list();
  if (context.arguments.json) {
    const document = listing.map(({ feature, metadata }) => ({ ...featureToJson(feature), metadata: metadata ?? null }));
    context.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
  } else {
    context.stdout.write(formatListing(listing));
  }
  return 0;
}
