import { join } from "node:path";
import { FeatureBuildError, MlforgeError } from "../errors";
import { errorMessage } from "../errors/error-message";
import type { Feature } from "../feature";
import type { ResolvedSource } from "../source";
import type { RemoteObject } from "../source-provider";
import { createTemporaryDirectory, removeTemporaryDirectory } from "../temporary-directory";

/** Downloads at most this many source objects at once. */
const DOWNLOAD_CONCURRENCY = 4;

/** Downloads every object of a remote source into `directory`; returns the local paths, in the objects' order. */
export async function downloadObjects(feature: Feature, source: Extract<ResolvedSource, { kind: "remote" }>, directory: string): Promise<string[]> {
  const paths = source.objects.map((object, index) => {
    // Keeps the object's name, extension included: DuckDB detects compression (.gz) from it.
    const name = (object.uri.split("/").at(-1) ?? "").replace(/[^A-Za-z0-9._-]/g, "_") || "object";
    return join(directory, `${index}-${name}`);
  });
  const download = async (object: RemoteObject, file: string): Promise<void> => {
    try {
      await source.provider.download(object, file);
    } catch (error) {
      if (MlforgeError.isInstance(error)) throw error;
      throw new FeatureBuildError(feature.name, `downloading its source object '${object.uri}' failed: ${errorMessage(error)}`, { cause: error });
    }
  };
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < source.objects.length) {
      const index = next++;
      await download(source.objects[index]!, paths[index]!).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  // Settled, not Promise.all: the caller removes the directory, so no download may still be writing into it.
  const outcomes = await Promise.allSettled(Array.from({ length: Math.min(DOWNLOAD_CONCURRENCY, source.objects.length) }, worker));
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
  if (failure !== undefined) throw failure.reason;
  return paths;
}

/**
 * Runs `body` with local paths holding the source: a local source's own files, or a remote
 * source's objects downloaded into a temporary directory under `tempDirectory` (the OS one when
 * undefined) that is removed when `body` ends.
 */
export async function withLocalSource<T>(feature: Feature, source: ResolvedSource, tempDirectory: string | undefined, body: (paths: readonly string[]) => Promise<T>): Promise<T> {
  if (source.kind === "local") return body(source.files.map((file) => file.path));
  const directory = await createTemporaryDirectory(tempDirectory);
  try {
    return await body(await downloadObjects(feature, source, directory));
  } finally {
    await removeTemporaryDirectory(directory);
  }
}
