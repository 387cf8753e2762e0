// Starting sync children (sync-child.ts), for the crash and concurrency tests.
import path from "node:path";
import { startChild, type RunningChild } from "@mlforge/test-support/processes";
import type { OnlineStoreDescription } from "./online-store-description";

// The child beside this module: built JavaScript in `dist` (sync-child.js or .cjs, as this module
// is), or, when this module runs from source (under Jest), sync-child.ts.
const CHILD = path.join(__dirname, `sync-child${path.extname(__filename)}`);

/** What a sync child syncs, and where. */
export interface SyncChildConfig {
  /** The online store to sync into, as the child constructs it. */
  onlineStore: OnlineStoreDescription;
  /** Directory of the offline `LocalStore` holding the built feature. */
  offlineStore: string;
  /** The CSV file written from `numberedSourceCsv`. */
  source: string;
  /** @default true */
  force?: boolean;
  /** @default 60000 */
  graceMs?: number;
  /** @default 250 */
  batchRows?: number;
}

/** Starts a sync child: `node sync-child.js <config>`; it prints "ready" once loaded. */
export function startSync(config: SyncChildConfig, environment: NodeJS.ProcessEnv = process.env): RunningChild {
  return startChild(CHILD, [JSON.stringify(config)], environment);
}
