// A feature whose every value is the number of the build that wrote it, for the crash and concurrency tests.
import assert from "node:assert/strict";
import { Definitions, feature, type Feature, type OnlineStore } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";

/** The feature the crash and concurrency tests sync. */
export const NUMBERED_FEATURE = "numbered";

/** Keys in the source: enough that a sync in small batches takes a while, so that kills land inside it. */
export const NUMBERED_KEYS = 40_000;

/** The source, a CSV of one row per key 0…NUMBERED_KEYS-1. */
export function numberedSourceCsv(): string {
  return `k\n${Array.from({ length: NUMBERED_KEYS }, (_, index) => index).join("\n")}\n`;
}

/**
 * The feature at build `build`: every value column equals `build`, so a row tells which build it
 * came from. An odd build holds every key, an even build only the even keys (so entities gone from
 * the new build must be gone).
 */
export function numberedFeature(source: string, build = 1): Feature {
  return feature({ name: NUMBERED_FEATURE, keys: ["k"], source }, (relation) =>
    `SELECT k, ${build}::INTEGER AS build, ${build}::INTEGER AS a, ${build}::DOUBLE AS b FROM ${relation}${build % 2 === 0 ? " WHERE k % 2 = 0" : ""}`,
  );
}

/** Rows build `build` holds. */
export function numberedRows(build: number): number {
  return build % 2 === 0 ? NUMBERED_KEYS / 2 : NUMBERED_KEYS;
}

/** `Definitions` of the numbered feature at `build` over the offline `LocalStore` at `offline`, serving from `store`. */
export function numberedDefinitions(store: OnlineStore | undefined, source: string, offline: string, build = 1): Definitions {
  return new Definitions({ name: "online-crash", features: [numberedFeature(source, build)], offlineStore: new LocalStore(offline), ...(store === undefined ? {} : { onlineStore: store }) });
}

/** Builds `build` of the numbered feature into the offline `LocalStore` at `offline` (forced; no online store involved). */
export async function buildNumbered(source: string, offline: string, build: number): Promise<void> {
  const defs = numberedDefinitions(undefined, source, offline, build);
  try {
    const result = await defs.build({ force: true });
    assert.equal(result.built[0]?.rows, numberedRows(build));
  } finally {
    await defs.close();
  }
}
