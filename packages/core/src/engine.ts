import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection, type DuckDBDataChunk, type DuckDBValueConverter } from "@duckdb/node-api";

/** Settings of the DuckDB database that builds and reads features. */
export interface EngineOptions {
  /** DuckDB `memory_limit`, for example "4GB". @default DuckDB's (80% of RAM) */
  memoryLimit?: string;
  /** DuckDB worker threads. @default the number of cores */
  threads?: number;
  /** Where DuckDB spills data that does not fit in memory, and where training data keeps entity rows given as objects. @default DuckDB's; the OS temp directory */
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
    /** False for a `fork()`, whose `close()` leaves the database to the engine it came from. */
    private readonly ownsInstance = true,
  ) {}

  /** Opens a new in-memory database. */
  static async open(options: EngineOptions = {}): Promise<Engine> {
    const config: Record<string, string> = {};
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    const instance = await DuckDBInstance.create(":memory:", config);
    const connection = await instance.connect();
    // TIMESTAMP <-> TIMESTAMPTZ casts and date_trunc on TIMESTAMPTZ follow the session time zone,
    // which DuckDB takes from the machine: UTC makes results the same on every machine.
    const engine = new Engine(instance, connection);
    try {
      await connection.run("SET TimeZone = 'UTC'");
    } catch (error) {
      engine.close();
      throw error;
    }
    return engine;
  }

  /**
   * Another connection to the same database, whose queries may run while this one's do; its
   * `close()` closes only that connection. Close it before closing this engine.
   */
  async fork(): Promise<Engine> {
    const connection = await this.instance.connect();
    const fork = new Engine(this.instance, connection, false);
    try {
      await connection.run("SET TimeZone = 'UTC'");
    } catch (error) {
      fork.close();
      throw error;
    }
    return fork;
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

  /** Runs a query and returns its rows as objects whose values `converter` makes from DuckDB's. */
  async convertedRows<T>(sql: string, converter: DuckDBValueConverter<T>): Promise<Record<string, T | null>[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.convertRowObjects(converter);
  }

  /**
   * Runs a query and yields its rows in batches of up to `batchRows` row objects, converted by
   * `converter`. DuckDB streams the result, so memory holds one batch, not the whole result. Run
   * nothing else on this engine until the iteration ends (a new query invalidates the stream).
   */
  async *batches<T>(sql: string, converter: DuckDBValueConverter<T>, batchRows = 2048): AsyncGenerator<Record<string, T | null>[]> {
    if (!Number.isSafeInteger(batchRows) || batchRows < 1) throw new RangeError(`batchRows must be a whole number of at least 1, got ${String(batchRows)}.`);
    const result = await this.connection.stream(sql);
    const names = result.deduplicatedColumnNames();
    let batch: Record<string, T | null>[] = [];
    for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      for (const values of chunk.convertRows(converter)) {
        const row: Record<string, T | null> = {};
        for (let index = 0; index < names.length; index++) row[names[index]!] = values[index] ?? null;
        batch.push(row);
        if (batch.length === batchRows) {
          yield batch;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield batch;
  }

  /**
   * Runs a query and yields DuckDB's result chunks (up to 2048 rows each) as they stream, for
   * callers that read values by column index and type without a row object per row. Run nothing
   * else on this engine until the iteration ends (a new query invalidates the stream).
   */
  async *chunks(sql: string): AsyncGenerator<DuckDBDataChunk> {
    const result = await this.connection.stream(sql);
    for (let chunk = await result.fetchChunk(); chunk !== null && chunk.rowCount > 0; chunk = await result.fetchChunk()) yield chunk;
  }

  /** Appends rows to an existing table through DuckDB's Appender, which `write` fills; flushed and closed after it. */
  async append(table: string, write: (appender: DuckDBAppender) => void): Promise<void> {
    const appender = await this.connection.createAppender(table);
    try {
      write(appender);
      appender.flushSync();
    } catch (error) {
      // Closing flushes too, and would fail on the same half-written row: report the first error.
      try {
        appender.closeSync();
      } catch {
        // already failing
      }
      throw error;
    }
    appender.closeSync();
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

  /** Closes the connection and, unless this is a `fork()`, the database. */
  close(): void {
    this.connection.closeSync();
    if (this.ownsInstance) this.instance.closeSync();
  }
}
