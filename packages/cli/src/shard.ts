/** One of `count` shares of a build: `--shard 2/4` is `{ index: 2, count: 4 }` (1-based). */
export interface Shard {
  /** Which share, from 1 to `count`. */
  index: number;
  /** How many shares the selected features are split into. */
  count: number;
}

/**
 * The feature names shard `shard.index` of `shard.count` builds: the names sorted (by code unit,
 * the same on every machine and locale) and dealt round-robin, so the counts differ by at most one
 * and every name goes to exactly one shard. Returned in sorted order.
 */
export function shardFeatures(names: readonly string[], shard: Shard): string[] {
  const sorted = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return sorted.filter((_name, position) => position % shard.count === shard.index - 1);
}
