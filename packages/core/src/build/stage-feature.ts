import { rm, stat } from "node:fs/promises";
import type { Engine } from "../engine";
import type { CheckResult } from "../checks";
import { FeatureBuildError, FeatureDefinitionError, MlforgeError } from "../errors";
import { errorMessage } from "../errors/error-message";
import type { Feature } from "../feature";
import { FOOTER_KEY, type FeatureFooter } from "../feature-metadata";
import { dataKey } from "../layout";
import { AS_OF_COLUMN, rollingOutputColumns } from "../rolling";
import type { Session } from "../session";
import { readerSql } from "../source";
import { asSubquery, quoteIdentifier, quoteLiteral } from "../sql";
import { newBuildId } from "./build-id";
import { planBuild, type BuildPlan } from "./build-plan";
import { withLocalSource } from "./download-source";
import type { StagedData } from "./publish";
import { validateOutput, type OutputAggregate } from "./validate-output";
import { quotePath } from "../literal-path";

/** A feature computed and validated into a staged file (see `StagedData`), with the values of the aggregates asked for. */
export interface StagedFeature extends StagedData {
  /** The value of each `aggregates` entry over the output, by name. */
  aggregates: Record<string, unknown>;
  /** The result of each of the feature's checks (failed ones are all of severity "warn"). */
  checks: CheckResult[];
}

/** Options of `stageFeature`. */
export interface StageOptions {
  /** The plan made by `planBuild`. @default planned here */
  plan?: BuildPlan;
  /** Aggregates to compute over the output in the validation pass. @default [] */
  aggregates?: readonly OutputAggregate[];
  /** Stops the computation before its next query; an aborted signal's reason is thrown as it is. @default none */
  signal?: AbortSignal;
}

/**
 * Computes a feature into a staged Parquet file of the session's offline store and validates it,
 * without publishing anything: the caller publishes the file (`publishStaged`) or removes it. A
 * remote source is downloaded for the computation and removed after it. On failure nothing is left.
 */
export async function stageFeature(feature: Feature, session: Session, engine: Engine, options: StageOptions = {}): Promise<StagedFeature> {
  const plan = options.plan ?? (await planBuild(feature, session, engine));
  return withLocalSource(feature, plan.source, session.engineOptions.tempDirectory, (paths) => stageFrom(feature, session, engine, plan, paths, options));
}

/** Runs the feature's SQL over the local files of its source into a staged file and validates it. */
async function stageFrom(
  feature: Feature,
  session: Session,
  engine: Engine,
  plan: BuildPlan,
  paths: readonly string[],
  { aggregates = [], signal }: StageOptions,
): Promise<StagedFeature> {
  const store = session.offlineStore;
  const { relation, sql, fingerprint, files, format } = plan;
  const engineStep = async <T>(step: () => Promise<T>): Promise<T> => {
    // An abort that came before the query started would be lost: the engine's interrupt only stops a running query.
    signal?.throwIfAborted();
    try {
      return await step();
    } catch (error) {
      if (MlforgeError.isInstance(error)) throw error;
      throw new FeatureBuildError(feature.name, errorMessage(error), { cause: error });
    }
  };

  const reader = readerSql(format, paths);
  await engineStep(() => engine.run(`CREATE OR REPLACE TEMP VIEW ${relation} AS SELECT * FROM ${reader}`));
  const query = asSubquery(sql);
  // Describing the transform's output computes nothing: every column the definition names is
  // checked here, before the build does any work.
  const schema = await engineStep(() => engine.columns(`SELECT * FROM ${asSubquery(plan.transformSql)}`));
  const names = schema.map((column) => column.name);
  const rolling = feature.rolling;
  const eventTime = rolling === undefined ? feature.timestamp : rolling.eventTime;
  const required: [string, string][] = [
    ...feature.keys.map((key): [string, string] => ["key", key]),
    ...(eventTime === undefined ? [] : [["timestamp", eventTime] as [string, string]]),
    ...Object.keys(rolling?.aggregations ?? {}).map((column): [string, string] => ["aggregated", column]),
  ];
  for (const [role, column] of required) {
    if (!names.includes(column)) {
      throw new FeatureBuildError(
        feature.name,
        `its output has no ${role} column '${column}'. Output columns: ${names.join(", ")}. Make the transform's SELECT return '${column}'.`,
      );
    }
  }
  if (rolling !== undefined) {
    const type = schema.find((column) => column.name === rolling.eventTime)!.type;
    if (!/^(TIMESTAMP|DATE)/.test(type)) {
      throw new FeatureBuildError(feature.name, `its timestamp column '${rolling.eventTime}' is ${type}; rolling windows need a TIMESTAMP, TIMESTAMPTZ or DATE. Cast it in the transform.`);
    }
  }
  const outputs = rolling === undefined ? names : [...feature.keys, AS_OF_COLUMN, ...rollingOutputColumns(rolling)];
  const unchecked = Object.keys(feature.checks ?? {}).filter((column) => !outputs.includes(column));
  if (unchecked.length > 0) {
    throw new FeatureDefinitionError(
      `Feature '${feature.name}' has checks on ${unchecked.map((column) => `'${column}'`).join(", ")}, which its output lacks. Output columns: ${outputs.join(", ")}. Check a column the transform returns.`,
    );
  }

  // The metadata known before the data is written travels inside the data file, with a fresh build
  // id that the metadata document repeats: the pair shows whether the document describes the file.
  const footer: FeatureFooter = {
    formatVersion: 1,
    name: feature.name,
    definitions: session.definitions,
    ...(feature.description === undefined ? {} : { description: feature.description }),
    tags: [...feature.tags],
    keys: [...feature.keys],
    ...(feature.timestamp === undefined ? {} : { timestamp: feature.timestamp }),
    source: feature.source,
    sourceFiles: files,
    fingerprint,
    buildId: newBuildId(),
    builtAt: new Date().toISOString(),
  };
  const staged = await store.stagingPath(dataKey(feature.name));
  try {
    // The staged file may exist already (a store may create it to prove it can write): DuckDB then
    // writes a `tmp_` file beside it first, which an interrupted COPY leaves behind. The staged file
    // is itself temporary, so DuckDB writes it directly.
    const options = `FORMAT parquet, USE_TMP_FILE false, KV_METADATA {${quoteIdentifier(FOOTER_KEY)}: ${quoteLiteral(JSON.stringify(footer))}}`;
    await engineStep(() => engine.run(`COPY ${query} TO ${quoteLiteral(staged)} (${options})`));
    // The staged file is this build's own: its footer is `footer` and validation counted its rows,
    // so only the stored column types (which may differ from the query's) and the size are read.
    const summary = await engineStep(() => validateOutput(engine, feature, staged, aggregates, rolling !== undefined ? "TIMESTAMP" : schema.find((column) => column.name === feature.timestamp)?.type));
    const file = {
      rows: summary.rows,
      schema: await engineStep(() => engine.columns(`SELECT * FROM read_parquet(${quotePath(staged)})`)),
      bytes: (await stat(staged)).size,
    };
    return { path: staged, footer, file, aggregates: summary.aggregates, checks: summary.checks, ...(summary.keyStats === undefined ? {} : { keyStats: summary.keyStats }) };
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }
}
