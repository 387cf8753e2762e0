import { stat } from "node:fs/promises";
import path from "node:path";
import { Definitions } from "@mlforge/core";
import { createJiti } from "jiti";
import { UsageError } from "./usage-error";

/** Where `mlforge` looks for a definitions file when `--target` is omitted, relative to the working directory, in order. */
export const DEFINITIONS_CANDIDATES: readonly string[] = ["", "src/"].flatMap((folder) =>
  ["ts", "mts", "js", "mjs"].map((extension) => `${folder}definitions.${extension}`),
);

async function isFile(file: string): Promise<boolean> {
  return (await stat(file).catch(() => undefined))?.isFile() ?? false;
}

/** The definitions file to load: `target` resolved from `cwd`, or the first of `DEFINITIONS_CANDIDATES`; throws `UsageError` when there is none. */
export async function findDefinitionsFile(cwd: string, target?: string): Promise<string> {
  if (target !== undefined) {
    const file = path.resolve(cwd, target);
    if (!(await isFile(file))) throw new UsageError(`Definitions file '${target}' does not exist (looked for ${file}). Check the --target path.`);
    return file;
  }
  for (const candidate of DEFINITIONS_CANDIDATES) {
    const file = path.join(cwd, candidate);
    if (await isFile(file)) return file;
  }
  throw new UsageError(
    `No definitions file found in ${cwd} (looked for ${DEFINITIONS_CANDIDATES.join(", ")}). ` +
      "Pass one with --target, for example `mlforge build --target src/features/definitions.ts`.",
  );
}

/** A loaded definitions file. */
export interface LoadedDefinitions {
  /** The user's `Definitions`. */
  definitions: Definitions;
  /** Absolute path of the file it came from. */
  file: string;
}

/** Picks the `Definitions` a module exports as `defs` or as its default export. */
export function definitionsFromModule(exports: unknown, file: string): Definitions {
  const namespace = (typeof exports === "object" && exports !== null ? exports : {}) as Record<string, unknown>;
  for (const candidate of [namespace.defs, namespace.default, (namespace.default as Record<string, unknown> | null | undefined)?.defs]) {
    // isInstance, not instanceof: the user's file may load another copy of @mlforge/core.
    if (Definitions.isInstance(candidate)) return candidate;
  }
  const exported = Object.keys(namespace).filter((key) => key !== "__esModule");
  throw new UsageError(
    `${file} exports no Definitions (its exports: ${exported.length > 0 ? exported.join(", ") : "none"}). ` +
      "Export one as `export const defs = new Definitions({ … })` or `export default new Definitions({ … })`.",
  );
}

/** Finds and loads the user's definitions file (TypeScript or JavaScript) through jiti. */
export async function loadDefinitions(cwd: string, target?: string): Promise<LoadedDefinitions> {
  const file = await findDefinitionsFile(cwd, target);
  // The namespace as it is (definitionsFromModule looks at `default` itself): jiti's interop proxy
  // throws a TypeError on a default export of null.
  const jiti = createJiti(file, { interopDefault: false });
  const exports = await jiti.import(file);
  return { definitions: definitionsFromModule(exports, file), file };
}
