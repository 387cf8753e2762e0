// Usage: npm run generate -- [--rows 200000] [--seed 42] [--out data/transactions.parquet]
import path from "node:path";
import { parseArgs } from "node:util";
import { formatBytes, formatCount, formatDuration } from "./format";
import { DEFAULT_TRANSACTIONS_PATH, generateTransactions } from "./generate-transactions";

const usage = `Usage: npm run generate -- [--rows N] [--seed N] [--out FILE]

  --rows N     number of transactions (default 200000)
  --seed N     seed of the pseudo-random draws (default 42)
  --out FILE   Parquet file to write (default ${DEFAULT_TRANSACTIONS_PATH})`;

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value.replaceAll("_", ""))) throw new RangeError(`--${name} must be an integer, got '${value}'.`);
  return Number(value.replaceAll("_", ""));
}

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
    options = { rows: integer("rows", values.rows), seed: integer("seed", values.seed), out: values.out };
    if (options.rows !== undefined && options.rows < 1) throw new RangeError(`--rows must be at least 1, got ${options.rows}.`);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  try {
    const written = await generateTransactions(options);
    const relative = path.relative(process.cwd(), written.path);
    const shown = relative.startsWith("..") || path.isAbsolute(relative) ? written.path : relative;
    console.log(
      `Wrote ${formatCount(written.rows)} transactions to ${shown} ` +
        `(${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}.`,
    );
    return 0;
  } catch (error) {
    console.error(`Could not generate transactions: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
