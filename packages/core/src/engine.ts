import { DuckDBInstance, type DuckDBConnection } from "@duckdb/node-api";

/** Settings of the DuckDB database that builds and reads features. */
export interface EngineOptions {
  /** DuckDB `memory_limit`, for example "4GB". @default DuckDB's (80% of RAM) */
  memoryLimit?: string;
  /** DuckDB worker threads. @default the number of cores */
  threads?: number;
  /** Where DuckDB spills data that does not fit in memory. @default DuckDB's */
  tempDirectory?: string;
}

/** A column's name and DuckDB type. */
export interface Column {
  name: string;
  type: string;
}

/** One in-memory DuckDB database and connection; rows stay inside it unless `rows()` asks for them. */
export class Engine {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens a new in-memory database. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const config: Record<string, string> = {};
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(":memory:", config);
    return new Engine(instance, await instance.connect());
  }

  /** Runs statements whose results are not needed. */
  async run(sql: string): Promise<void> {
    await this.connection.run(sql);
  }

  /** Runs a query and returns its rows as plain JavaScript objects: only for small results. */
  async rows(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  }

  /** The columns a query returns, without running it. */
  async columns(sql: string): Promise<Column[]> {
    const rows = await this.rows(`DESCRIBE ${sql}`);
    return rows.map((row) => ({ name: String(row.column_name), type: String(row.column_type) }));
  }

  /** Stops the running query (used by `AbortSignal`). */
  interrupt(): void {
    this.connection.interrupt();
  }

  /** Closes the connection and the database. */
  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
