// One online sync in a child process, for the crash and concurrency tests. Run with
// `node dist/sync-child.cjs '<SyncChildConfig as JSON>'` (from source: `node register-ts.cjs
// sync-child.ts '…'`; see `startSync`); it prints "ready" once loaded, "done <JSON of the result>"
// when the sync resolved, or "failed <JSON of the error's name and message>" when it rejected.
import { Definitions } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { numberedFeature } from "./build-numbered";
import { openDescribedOnlineStore } from "./online-store-description";
import type { SyncChildConfig } from "./sync-children";

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as SyncChildConfig;
  const onlineStore = await openDescribedOnlineStore(config.onlineStore);
  // The child only syncs what the offline store holds: the build number of its definition is never built.
  const defs = new Definitions({ name: "online-crash", features: [numberedFeature(config.source)], offlineStore: new LocalStore(config.offlineStore), onlineStore });
  process.stdout.write("ready\n");
  try {
    const result = await defs.syncOnline({ force: config.force ?? true, graceMs: config.graceMs ?? 60_000, batchRows: config.batchRows ?? 250 });
    process.stdout.write(`done ${JSON.stringify(result)}\n`);
  } catch (error) {
    process.stdout.write(`failed ${JSON.stringify({ name: (error as Error).name, message: (error as Error).message })}\n`);
    process.exitCode = 1;
  } finally {
    await defs.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 2;
});
