import { createRequire } from "node:module";
import path from "node:path";
import type { OfflineStore } from "@mlforge/core";

/**
 * A store as plain JSON, so that a child process can construct the same store as the test:
 * `new (await import(module))[exportName](options)`. The module is resolved from the working
 * directory. Example: `{ module: "@mlforge/store-s3", export: "S3Store", options: { bucket, prefix } }`.
 */
export interface StoreDescription {
  /** A package name or an absolute path. */
  module: string;
  /** The name of the store class among the module's exports. */
  export: string;
  /** The one argument of its constructor; plain JSON. */
  options: unknown;
}

/** Constructs the store a description names (in a build child). */
export async function openDescribedStore(description: StoreDescription): Promise<OfflineStore> {
  // From the working directory, not from this package: the store is the tested project's dependency, not the suite's.
  const resolved = createRequire(path.join(process.cwd(), "package.json")).resolve(description.module);
  const exports = (await import(resolved)) as Record<string, unknown>;
  const Store = exports[description.export] as (new (options: unknown) => OfflineStore) | undefined;
  if (typeof Store !== "function") throw new Error(`${description.module} has no export '${description.export}'.`);
  return new Store(description.options);
}
