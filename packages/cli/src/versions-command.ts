import type { FeatureVersion } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { formatBytes, formatCount, formatTable, formatTime } from "./format";

/** The text table of `mlforge versions`: newest first, the current version marked with `*`. */
export function formatVersions(name: string, versions: readonly FeatureVersion[]): string {
  if (versions.length === 0) return `Feature '${name}' has no versions: it has not been built yet. Run \`mlforge build --features ${name}\`.\n`;
  const table = formatTable(
    [{ header: "" }, { header: "build id" }, { header: "built at" }, { header: "rows", align: "right" }, { header: "size", align: "right" }, { header: "fingerprint" }],
    versions.map((version) => [
      version.current ? "*" : "",
      version.buildId,
      formatTime(version.builtAt),
      formatCount(version.rows),
      formatBytes(version.bytes),
      version.fingerprint.slice(0, 12),
    ]),
  );
  const other = versions.find((version) => !version.current);
  const hint = other === undefined ? "" : ` Restore another with \`mlforge rollback ${name} --to <build id>\`.`;
  return `${table}\n* current version.${hint}\n`;
}

/** `mlforge versions <feature>`: the builds of a feature the offline store keeps, newest first, the current one marked. */
export async function versionsCommand(context: CommandContext): Promise<number> {
  const name = context.arguments.feature ?? "";
  const versions = await context.definitions.versions(name);
  context.stdout.write(context.arguments.json ? `${JSON.stringify(versions, null, 2)}\n` : formatVersions(name, versions));
  return 0;
}
