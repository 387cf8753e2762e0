import type { CheckResult, FeatureValidationResult } from "@mlforge/core";
import type { CommandContext } from "./command-context";
import { EXIT_CODES } from "./exit-codes";
import { formatCount, formatDuration, formatTable } from "./format";

/** One check's line: its column and description, and how many rows failed. */
export function formatCheckResult(check: CheckResult): string {
  const outcome = check.passed ? "passed" : `${check.severity === "warn" ? "warning" : "FAILED"}: ${formatCount(check.failingRows)} of ${formatCount(check.rows)} rows`;
  return `${check.column} ${check.check}: ${outcome}`;
}

function toJson(item: FeatureValidationResult): Record<string, unknown> {
  return { ...item, ...(item.error === undefined ? {} : { error: { name: item.error.name, message: item.error.message } }) };
}

/** `mlforge validate`: runs the selected features' transforms and checks, publishes nothing; exit 1 when one fails. */
export async function validateCommand(context: CommandContext): Promise<number> {
  const { definitions, arguments: args, stdout, stderr } = context;
  const result = await definitions.validate({
    features: args.features,
    tags: args.tags,
    onProgress: (item) => {
      if (!args.json) stderr.write(`${item.status === "passed" ? "✓" : "✗"} ${item.name}\n`);
    },
    signal: context.signal,
  });
  if (args.json) {
    stdout.write(`${JSON.stringify({ ...result, features: result.features.map(toJson) }, null, 2)}\n`);
  } else {
    let text = formatTable(
      [{ header: "name" }, { header: "status" }, { header: "rows", align: "right" }, { header: "checks", align: "right" }, { header: "duration", align: "right" }],
      result.features.map((item) => [
        item.name,
        item.status,
        formatCount(item.rows),
        `${item.checks.filter((check) => check.passed).length}/${item.checks.length}`,
        formatDuration(item.durationMs),
      ]),
    );
    const notable = result.features.filter((item) => item.error !== undefined || item.checks.some((check) => !check.passed));
    for (const item of notable) {
      text += `\n${item.name}:\n`;
      for (const check of item.checks.filter((entry) => !entry.passed)) text += `  ${formatCheckResult(check)}\n`;
      if (item.error !== undefined) text += `  ${item.error.message.replace(/\n/g, "\n  ")}\n`;
    }
    text += `\n${result.passed ? "Valid" : "Invalid"}: ${result.features.filter((item) => item.status === "passed").length} of ${result.features.length} features passed; nothing was published.\n`;
    stdout.write(text);
  }
  return result.passed ? EXIT_CODES.success : EXIT_CODES.failure;
}
