import { createRequire } from "node:module";
import path from "node:path";
import type { OnlineStore } from "@mlforge/core";

/**
 * An online store as plain JSON, so that a child process can construct the same store as the
 * test: `new (await import(module))[export](options)`, the module resolved from the working
 * directory. Example: `{ module: "@mlforge/online-redis", export: "RedisOnlineStore", options: { url, prefix } }`.
 */
export interface OnlineStoreDescription {
  /** A package name or an absolute path. */
  module: string;
  /** The name of the store class among the module's exports. */
  export: string;
  /** The one argument of its constructor; plain JSON. */
  options: unknown;
}

/** Constructs the store a description names (in a sync child). */
export async function openDescribedOnlineStore(description: OnlineStoreDescription): Promise<OnlineStore> {
  // From the working directory, not from this package: the store is the tested project's dependency, not the suite's.
  const resolved = createRequire(path.join(process.cwd(), "package.json")).resolve(description.module);
  const exports = (await import(resolved)) as Record<string, unknown>;
  const Store = exports[description.export] as (new (options: unknown) => OnlineStore) | undefined;
  if (typeof Store !== "function") throw new Error(`${description.module} has no export '${description.export}'.`);
  return new Store(description.options);
}
