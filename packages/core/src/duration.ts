import { FeatureDefinitionError } from "./errors";

const unitMs: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A length of time: a whole number of milliseconds, or `"<n>s|m|h|d|w"` such as `"90s"`, `"12h"`, `"7d"`. */
export type Duration = number | `${number}${"s" | "m" | "h" | "d" | "w"}`;

/**
 * Milliseconds of a `Duration`; throws `FeatureDefinitionError` naming `label` (such as
 * "Feature 'user_spend' option 'onlineTtl'") and the accepted forms for anything else.
 */
export function parseDuration(value: unknown, label: string): number {
  const accepted = `Use a whole number of milliseconds greater than 0 or a string like "30s", "15m", "12h", "7d" or "2w"`;
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new FeatureDefinitionError(`${label} is ${String(value)}, which is not a duration. ${accepted}.`);
  }
  if (typeof value === "string") {
    const match = /^(\d+)(s|m|h|d|w)$/.exec(value.trim());
    const milliseconds = match === null ? Number.NaN : Number(match[1]) * unitMs[match[2]!]!;
    if (Number.isSafeInteger(milliseconds) && milliseconds > 0) return milliseconds;
    throw new FeatureDefinitionError(`${label} is "${value}", which is not a duration. ${accepted}.`);
  }
  throw new FeatureDefinitionError(`${label} is ${value === null ? "null" : typeof value}, which is not a duration. ${accepted}.`);
}
