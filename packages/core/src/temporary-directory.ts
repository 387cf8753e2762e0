import { rmSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

/** Directories created by this module and not yet removed. */
const live = new Set<string>();

/**
 * Last resort for directories nobody removed: a process that exits normally (even after an
 * uncaught error) removes them synchronously. A process killed by a signal cannot run this; its
 * directories stay behind, named `mlforge-*`, in the OS temp directory (or the engine's
 * `tempDirectory` when set).
 */
function removeAllSync(): void {
  for (const directory of live) rmSync(directory, { recursive: true, force: true });
  live.clear();
}

// Installed only while some directory is live, so that modules loaded many times (Jest loads one
// copy per test file) do not pile up `exit` listeners.
function track(directory: string): void {
  if (live.size === 0) process.on("exit", removeAllSync);
  live.add(directory);
}

function untrack(directory: string): void {
  if (live.delete(directory) && live.size === 0) process.off("exit", removeAllSync);
}

/** Creates a fresh private directory in `root` (created if needed), removed at process exit unless removed earlier. */
export async function createTemporaryDirectory(root: string = tmpdir()): Promise<string> {
  await mkdir(root, { recursive: true });
  const directory = await mkdtemp(path.join(root, "mlforge-"));
  track(directory);
  return directory;
}

/** Removes a directory made by `createTemporaryDirectory` and everything in it; removing twice is harmless. */
export async function removeTemporaryDirectory(directory: string): Promise<void> {
  await rm(directory, { recursive: true, force: true });
  untrack(directory);
}
