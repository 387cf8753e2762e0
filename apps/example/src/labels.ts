// Usage: npm run labels -- [--rows 50000] [--seed 42] [--transactions data/transactions.parquet] [--out data/labels.parquet]
import { parseArgs } from "node:util";
import { formatBytes, formatCount, formatDuration, formatPath, formatPercent } from "./format";
import { DEFAULT_LABELS_PATH, generateLabels, LABEL_COLUMN } from "./generate-labels";
import { TRANSACTIONS_SOURCE } from "./features";
import { parseInteger } from "./parse-integer";

const usage = `Usage: npm run labels -- [--rows N] [--seed N] [--transactions FILE] [--out FILE]

  --rows N             number of label rows (default 50000)
  --seed N             seed of the pseudo-random draws (default 42)
  --transactions FILE  transactions the labels come from (default ${TRANSACTIONS_SOURCE})
  --out FILE           Parquet file to write (default ${DEFAULT_LABELS_PATH})`;

async function main(): Promise<number> {
  let options: { rows?: number; seed?: number; transactions: string; out?: string };
  try {
    const { values } = parseArgs({
      options: {
        rows: { type: "string" },
        seed: { type: "string" },
        transactions: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    options = { rows: parseInteger("rows", values.rows), seed: parseInteger("seed", values.seed), transactions: values.transactions ?? TRANSACTIONS_SOURCE, out: values.out };
    if (options.rows !== undefined && options.rows < 1) throw new RangeError(`--rows must be at least 1, got ${options.rows}.`);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  try {
    const written = await generateLabels(options);
    console.log(
      `Wrote ${formatCount(written.rows)} labels to ${formatPath(written.path)} (${formatBytes(written.bytes)}) in ${formatDuration(written.durationMs)}; ` +
        `${LABEL_COLUMN} is true for ${formatCount(written.positives)} (${formatPercent(written.positives / written.rows)}).`,
    );
    return 0;
  } catch (error) {
    console.error(`Could not generate labels: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
