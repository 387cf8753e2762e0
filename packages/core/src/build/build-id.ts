import { randomBytes } from "node:crypto";

/**
 * A new build id: 32 hex digits, the first 12 the time in milliseconds, so ids sort in build order
 * (versions and the online sync compare them); the rest random, so concurrent builds differ.
 */
export function newBuildId(): string {
  return `${Date.now().toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
}

/** When build `buildId` started, in milliseconds since the epoch, from its first 12 hex digits; undefined for an id of another shape. */
export function buildIdTime(buildId: string): number | undefined {
  if (!/^[0-9a-f]{32}$/.test(buildId)) return undefined;
  return Number.parseInt(buildId.slice(0, 12), 16);
}
