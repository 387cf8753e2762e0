// One build in a child process, for the crash and concurrency tests. Run with
// `node dist/build-child.cjs '<BuildChildConfig as JSON>'` (from source: `node register-ts.cjs
// build-child.ts '…'`; see `startBuild`); it prints
// "ready" once loaded, one line per progress event, and "done" when the build resolved.
import { existsSync, writeFileSync } from "node:fs";
import { Definitions, type OfflineStore } from "@mlforge/core";
import { featureOfKey, interceptStore } from "./intercept-store";
import { openDescribedStore } from "./store-description";
import { versionedFeatures, type BuildChildConfig, type Gate } from "./versioned-features";

/** Passes the gates set for `when` `operation` of feature `name`. */
async function passGates(gates: readonly Gate[], when: Gate["when"], operation: Gate["operation"], name: string): Promise<void> {
  for (const gate of gates) {
    if (gate.when !== when || gate.operation !== operation || gate.feature !== name) continue;
    if (gate.create !== undefined) writeFileSync(gate.create, "");
    const deadline = Date.now() + 20_000;
    while (gate.waitFor !== undefined && !existsSync(gate.waitFor)) {
      if (Date.now() > deadline) throw new Error(`Gave up waiting for ${gate.waitFor}.`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/**
 * The store, except that the child kills itself as it calls `crashAt`'s operation on its feature's
 * current key, waits before metadata writes, and passes gates. Keys of kept versions
 * (`_versions/…`) belong to no feature here: a build stores its version first, then copies it to
 * the current key (`copy`), then writes the current document (`putText`).
 */
function instrumented(store: OfflineStore, { crashAt, metadataDelayMs = 0, gates = [] }: BuildChildConfig): OfflineStore {
  const crash = (operation: string, name: string) => {
    if (operation === crashAt?.operation && name === crashAt.feature) process.kill(process.pid, "SIGKILL");
  };
  return interceptStore(store, {
    putFile: async (key, file, options) => {
      const name = featureOfKey(key);
      crash("putFile", name);
      await passGates(gates, "before", "putFile", name);
      const stored = await store.putFile(key, file, options);
      await passGates(gates, "after", "putFile", name);
      return stored;
    },
    copy: async (from, to) => {
      const name = featureOfKey(to);
      crash("copy", name);
      await passGates(gates, "before", "copy", name);
      const stored = await store.copy(from, to);
      await passGates(gates, "after", "copy", name);
      return stored;
    },
    putText: async (key, text) => {
      const name = featureOfKey(key);
      crash("putText", name);
      if (metadataDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, metadataDelayMs));
      await passGates(gates, "before", "putText", name);
      await store.putText(key, text);
      await passGates(gates, "after", "putText", name);
    },
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? "{}") as BuildChildConfig;
  const store = instrumented(await openDescribedStore(config.store), config);
  const defs = new Definitions({ name: "crash", features: versionedFeatures(config), offlineStore: store });
  process.stdout.write("ready\n");
  await defs.build({
    force: config.force,
    onProgress: (event) => process.stdout.write(`${event.type} ${event.name}${event.type === "end" ? ` ${event.result.status}` : ""}\n`),
  });
  process.stdout.write("done\n");
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
