import type { RollbackResult, RollbackVersion } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { formatCount, formatTime } from "./format";

function describe(version: RollbackVersion): string {
  return `${version.buildId} (built ${formatTime(version.builtAt)}, ${formatCount(version.rows)} rows)`;
}

/** What `mlforge rollback` prints: what was (or, with --dry-run, would be) restored and replaced. */
export function formatRollback(result: RollbackResult): string {
  const lines = result.dryRun
    ? [`Would roll back ${result.name} to ${describe(result.restored)},`, `replacing ${describe(result.replaced)}.`, "Dry run: nothing was changed."]
    : [
        `Rolled back ${result.name} to ${describe(result.restored)},`,
        `replacing ${describe(result.replaced)}.`,
        `The next \`mlforge sync-online\` serves it online; \`mlforge build\` keeps it while the definition is that version's.`,
      ];
  if (result.note !== undefined) lines.push(`Note: ${result.note}`);
  return `${lines.join("\n")}\n`;
}

/** `mlforge rollback <feature> (--to <buildId> | --previous) [--dry-run]`: makes a kept version current again. */
export async function rollbackCommand(context: CommandContext): Promise<number> {
  const { arguments: args } = context;
  const result = await context.definitions.rollback(args.feature ?? "", { to: args.previous ? "previous" : args.to!, dryRun: args["dry-run"] });
  context.stdout.write(args.json ? `${JSON.stringify(result, null, 2)}\n` : formatRollback(result));
  return 0;
}
