import type { Definitions } from "@mlforge/core";

/** The features `npm start` looks up online, and the value column shown of each. */
const LOOKUP = [
  { feature: "user_total_spend", column: "total_spend" },
  { feature: "user_avg_spend", column: "avg_spend" },
  // A rolling feature serves its latest row: after a user's last purchase that is the row where
  // both windows emptied (count 0), not a stale sum carried forward.
  { feature: "user_spend", column: "amount_count_30d" },
] as const;

/** One user's value of one feature: from the online store and from the offline store's latest row. */
export interface LookupRow {
  user_id: string;
  feature: string;
  online: unknown;
  offline: unknown;
}

/** The latest offline row per user of `feature` (by its timestamp, when it has one), for the given users. */
async function offlineLatest(defs: Definitions, feature: string, users: readonly string[]): Promise<Map<string, Record<string, unknown>>> {
  const definition = defs.feature(feature);
  const frame = await defs.read(feature);
  const latest = new Map<string, Record<string, unknown>>();
  for (const row of await frame.rows()) {
    const user = String(row.user_id);
    if (!users.includes(user)) continue;
    const time = definition.timestamp === undefined ? 0 : (row[definition.timestamp] as Date).getTime();
    const seen = latest.get(user);
    if (seen === undefined || definition.timestamp === undefined || time > (seen[definition.timestamp] as Date).getTime()) latest.set(user, row);
  }
  return latest;
}

/**
 * Reads the users' features from the online store in one call and the same users' latest rows
 * from the offline store: serving must return exactly what training saw.
 */
export async function onlineLookup(defs: Definitions, users: readonly string[]): Promise<LookupRow[]> {
  const online = await defs.getOnlineFeatures({
    features: LOOKUP.map(({ feature, column }) => `${feature}.${column}`),
    entities: users.map((user_id) => ({ user_id })),
  });
  const rows: LookupRow[] = [];
  for (const { feature, column } of LOOKUP) {
    const offline = await offlineLatest(defs, feature, users);
    for (const [index, user] of users.entries()) {
      rows.push({ user_id: user, feature: `${feature}.${column}`, online: online[index]![column] ?? null, offline: offline.get(user)?.[column] ?? null });
    }
  }
  return rows;
}

/** The lookup as a table with a match column. */
export function lookupTable(rows: readonly LookupRow[]): string {
  const cells = [["user", "feature", "online", "offline", "same"], ...rows.map((row) => [row.user_id, row.feature, String(row.online), String(row.offline), Object.is(row.online, row.offline) ? "yes" : "NO"])];
  const widths = cells[0]!.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)));
  return cells.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n");
}
