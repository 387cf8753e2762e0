import { FeatureDefinitionError, SourceNotFoundError } from "./errors";
import { errorMessage } from "./errors/error-message";

/** One object a remote source resolved to, with what identifies its content for fingerprints. */
export interface RemoteObject {
  /** The object's full URI, such as `s3://bucket/data/2025-01.parquet`. */
  uri: string;
  /** Size in bytes. */
  size: number;
  /** What changes whenever the content does, such as S3's ETag. */
  version: string;
}

/**
 * Serves the sources of one or more URI schemes (`s3://`…) to core, which knows nothing of the
 * backend: it lists objects to fingerprint them, and downloads them only when a feature rebuilds.
 */
export interface SourceProvider {
  /** URI schemes it serves, lower case and without `://`, such as `["s3"]`. */
  readonly schemes: readonly string[];
  /** Expands a URI (one object, a prefix ending in `/`, or a glob) to the objects it names today, sorted; none is `[]`. */
  list(uri: string): Promise<RemoteObject[]>;
  /** Downloads one object to `file`, a local path core chooses in a directory it owns, streaming. */
  download(object: RemoteObject, file: string): Promise<void>;
}

/** The scheme of a URI source (`"s3"` for `s3://bucket/key`), or undefined for a local path or glob. */
export function sourceScheme(source: string): string | undefined {
  // Two letters at least, so that a Windows drive ("C://data") is never taken for a scheme.
  return /^([A-Za-z][A-Za-z0-9+.-]+):\/\//.exec(source)?.[1]?.toLowerCase();
}

/** Loads the package that serves `s3://` by default; a seam for tests. */
export type ModuleLoader = () => Promise<unknown>;

const S3_PACKAGE = "@mlforge/store-s3";

/**
 * Imports @mlforge/store-s3 only when an s3:// source needs it: core does not depend on it, so that
 * installing core never brings the AWS SDK. A variable specifier keeps bundlers from resolving it.
 */
const importStoreS3: ModuleLoader = () => {
  const specifier = S3_PACKAGE;
  return import(specifier);
};

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === "MODULE_NOT_FOUND" || code === "ERR_MODULE_NOT_FOUND") && errorMessage(error).includes(specifier);
}

function isSourceProvider(value: unknown): value is SourceProvider {
  const candidate = value as Partial<SourceProvider> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    Array.isArray(candidate.schemes) &&
    candidate.schemes.every((scheme) => typeof scheme === "string") &&
    typeof candidate.list === "function" &&
    typeof candidate.download === "function"
  );
}

/** Checks the `sources` option of `Definitions` and maps each scheme to its provider. */
function providersByScheme(providers: readonly SourceProvider[]): Map<string, SourceProvider> {
  if (!Array.isArray(providers)) {
    throw new FeatureDefinitionError("Definitions option 'sources' must be an array of source providers, for example sources: [s3Sources({ region: \"us-west-2\" })].");
  }
  const byScheme = new Map<string, SourceProvider>();
  for (const provider of providers) {
    if (!isSourceProvider(provider)) {
      throw new FeatureDefinitionError(
        "Definitions option 'sources' holds something that is not a source provider. Each needs 'schemes' (an array of strings), 'list(uri)' and 'download(object, file)'.",
      );
    }
    for (const scheme of provider.schemes.map((name) => name.toLowerCase().replace(/:(\/\/)?$/, ""))) {
      if (byScheme.has(scheme)) {
        throw new FeatureDefinitionError(`Definitions option 'sources' has two providers for ${scheme}:// sources. Keep one.`);
      }
      byScheme.set(scheme, provider);
    }
  }
  return byScheme;
}

/** The providers of one `Definitions`: the ones it was given, then @mlforge/store-s3 for `s3://`, loaded once on first use. */
export class SourceProviders {
  private readonly byScheme: Map<string, SourceProvider>;
  private defaultS3: Promise<SourceProvider> | undefined;

  constructor(
    providers: readonly SourceProvider[] = [],
    private readonly loadStoreS3: ModuleLoader = importStoreS3,
  ) {
    this.byScheme = providersByScheme(providers);
  }

  /** The provider serving `source`'s scheme; throws `SourceNotFoundError` saying what to install or pass. */
  async providerFor(feature: string, source: string, scheme: string): Promise<SourceProvider> {
    const given = this.byScheme.get(scheme);
    if (given !== undefined) return given;
    if (scheme === "s3") {
      this.defaultS3 ??= this.loadS3(feature, source).catch((error: unknown) => {
        this.defaultS3 = undefined;
        throw error;
      });
      return this.defaultS3;
    }
    const served = [...this.byScheme.keys()].map((name) => `${name}://`);
    throw new SourceNotFoundError(
      source,
      `Feature '${feature}' reads '${source}', but no source provider serves ${scheme}:// URIs` +
        `${served.length > 0 ? ` (given: ${served.join(", ")})` : ""}. ` +
        `Pass one in new Definitions({ sources: [...] }), or use a local path or glob${scheme === "file" ? " instead of a file:// URI" : ""}.`,
    );
  }

  private async loadS3(feature: string, source: string): Promise<SourceProvider> {
    let loaded: unknown;
    try {
      loaded = await this.loadStoreS3();
    } catch (error) {
      if (!isModuleNotFound(error, S3_PACKAGE)) throw error;
      throw new SourceNotFoundError(
        source,
        `Feature '${feature}' reads '${source}', but s3:// sources need ${S3_PACKAGE}. ` +
          `Install it (npm install ${S3_PACKAGE}) and build again, or pass a provider in new Definitions({ sources: [...] }).`,
        { cause: error },
      );
    }
    const factory = (loaded as { s3Sources?: unknown } | null)?.s3Sources;
    const provider = typeof factory === "function" ? (factory as () => unknown)() : undefined;
    if (!isSourceProvider(provider)) {
      throw new SourceNotFoundError(
        source,
        `Feature '${feature}' reads '${source}', but the installed ${S3_PACKAGE} has no s3Sources() provider. Update it (npm install ${S3_PACKAGE}@latest).`,
      );
    }
    return provider;
  }
}
