import { randomBytes } from "node:crypto";
import type { Column } from "../engine";

/** The namespace holding one pointer entry per synced feature, keyed by feature name. Feature names hold no '.', so no feature's namespaces share it. */
export const POINTER_NAMESPACE = "mlforge.pointers";

/**
 * Which synced build of a feature readers use: the one entry a sync rewrites to switch readers
 * over, atomically, once the namespace it names is complete.
 */
export interface OnlinePointer {
  /** Version of this document's shape. */
  formatVersion: 1;
  feature: string;
  /** The namespace holding this sync's rows: `<feature>@<syncId>`. */
  namespace: string;
  /** Sortable id of the sync that wrote `namespace`; a later sync has a larger id. */
  syncId: string;
  /** The offline build the rows come from. */
  buildId: string;
  /** When that build finished (ISO 8601). */
  builtAt: string;
  /** When this sync switched readers over (ISO 8601). */
  syncedAt: string;
  /** Rows (entities) in the namespace. */
  rows: number;
  /** Key columns with their DuckDB types, in key order. */
  keys: Column[];
  /** The value columns with their DuckDB types, in the order each entry's values are encoded. */
  columns: Column[];
  /** The event-time column, when the feature has one. */
  timestamp?: string;
  /** The namespace readers used before this sync, kept until `previousUntil`. */
  previous?: string;
  /** When `previous` may be removed (ISO 8601). */
  previousUntil?: string;
  /** The grace period of this sync: readers older than half of it look the pointer up again before reading. */
  graceMs: number;
}

/** A new sync id: the time, then random bits, so ids sort by when their sync started. */
export function newSyncId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:.]/g, "")}-${randomBytes(4).toString("hex")}`;
}

/** The namespace prefix of a feature's synced builds. */
export function namespacePrefix(feature: string): string {
  return `${feature}@`;
}

/** The sync id a namespace of `feature` was written by, or undefined for a namespace not of that shape. */
export function syncIdOf(feature: string, namespace: string): string | undefined {
  const prefix = namespacePrefix(feature);
  return namespace.startsWith(prefix) ? namespace.slice(prefix.length) : undefined;
}

/** Parses a pointer entry; undefined when missing or not one (an entry of another version is treated as never synced). */
export function parsePointer(text: string | undefined): OnlinePointer | undefined {
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<OnlinePointer>;
    return parsed.formatVersion === 1 && typeof parsed.namespace === "string" && typeof parsed.syncId === "string" && Array.isArray(parsed.columns)
      ? (parsed as OnlinePointer)
      : undefined;
  } catch {
    return undefined;
  }
}
