// Usage: npm run generate -- [--rows 200000] [--seed 42] [--out data/transactions.parquet]
import { parseArgs } from "node:util";
import { formatBytes, formatCount, formatDuration, formatPath } from "./format";
import { DEFAULT_TRANSACTIONS_PATH, generateTransactions } from "./generate-transactions";
import { parseInteger } from "./parse-integer";

const usage = `Usage: npm run generate -- [--rows N] [--seed N] [--out FILE]

  --rows N     number of transactions (default 200000)
  --seed N     seed of the pseudo-random draws (default 42)
  --out FILE   Parquet file to write (default ${DEFAULT_TRANSACTIONS_PATH})`;

async function main(): Promise<number> {
  let options: { rows?: number; seed?: number; out?: string };
  try {
    const { values } = parseArgs({
      options: {
        rows: { type: "string" },
        seed: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    options = { rows: parseInteger("rows", values.rows), seed: parseInteger("seed", values.seed), out: values.out };
    if (options.rows !== undefined && options.rows < 1) throw new RangeError(`--rows must be at least 1, got ${options.rows}.`);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  try {
    const written = await generateTransactions(options);
    console.log(
      `Wrote ${formatCount(written.rows)} transactions to ${formatPath(written.path)} ` +
        `(${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.`,
    );
    return 0;
  } catch (error) {
    console.error(`Could not generate transactions: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
