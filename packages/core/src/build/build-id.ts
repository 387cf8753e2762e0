import { randomBytes } from "node:crypto";

/**
 * A new build id: 32 hex digits, the first 12 the time in milliseconds, so ids sort in build order
 * (versions and the online sync compare them); the rest random, so concurrent builds differ.
 */
export function newBuildId(): string {
  return `${Date.now().toString(16).padStart(12, "0")}${randomBytes(10).toString("hex")}`;
}
