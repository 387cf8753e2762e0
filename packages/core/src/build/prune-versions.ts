import { errorMessage, firstLine } from "../errors/error-message";
import { versionDataKey, versionIdsOf, versionMetadataKey, versionsPrefix } from "../layout";
import type { OfflineStore } from "../offline-store";
import { buildIdTime } from "./build-id";

/**
 * A version's data without its document is removed only once its build started this long ago:
 * until then it may be a concurrent build's, between writing its data and its document. Older,
 * it was left by a build killed between the two.
 */
const ORPHAN_AGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the kept versions of feature `name` beyond `keepVersions`: the current build's version
 * (`currentId`) is always kept, then the newest others up to `keepVersions` in all; `0` removes
 * every one, `Infinity` none. Also removes data left without a document by a killed build. Each
 * version loses its document first, so a version is never listed without its data. Best effort:
 * resolves to a note for the user when something could not be removed (such as S3 credentials
 * without s3:DeleteObject), and never rejects.
 */
export async function pruneVersions(store: OfflineStore, name: string, keepVersions: number, currentId: string | undefined): Promise<string | undefined> {
  if (keepVersions === Infinity) return undefined;
  let removable: string[];
  let orphans: string[];
  try {
    const keys = await store.list(versionsPrefix(name));
    const documented = versionIdsOf(name, keys, ".json");
    const kept = new Set<string>();
    if (keepVersions > 0 && currentId !== undefined) kept.add(currentId);
    for (const id of [...documented].reverse()) {
      if (kept.size >= keepVersions) break;
      kept.add(id);
    }
    removable = documented.filter((id) => !kept.has(id));
    const cutoff = Date.now() - ORPHAN_AGE_MS;
    orphans = versionIdsOf(name, keys, ".parquet").filter((id) => !documented.includes(id) && !kept.has(id) && (buildIdTime(id) ?? 0) < cutoff);
  } catch (error) {
    return `Could not list its old versions to apply keepVersions (${keepVersions}), so none were removed: ${firstLine(errorMessage(error))}.`;
  }
  const removals = [...removable.map((id) => [versionMetadataKey(name, id), versionDataKey(name, id)]), ...orphans.map((id) => [versionDataKey(name, id)])];
  for (const [index, keys] of removals.entries()) {
    try {
      for (const key of keys) await store.delete(key);
    } catch (error) {
      const left = removals.length - index;
      return (
        `Kept ${left} old version${left === 1 ? "" : "s"} beyond keepVersions (${keepVersions}): removing ${left === 1 ? "it" : "them"} failed. ` +
        `${firstLine(errorMessage(error))}.`
      );
    }
  }
  return undefined;
}
