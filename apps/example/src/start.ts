// Usage: npm start -- [--rows 200000]
// Generates the transactions when they are missing, builds every feature and prints what was built.
import { parseArgs } from "node:util";
import { buildExample } from "./build-example";
import { lookupTable, onlineLookup } from "./online-lookup";
import { parseWholeNumber } from "./parse-whole-number";

const usage = `Usage: npm start -- [--rows N]

  --rows N   transactions to generate when the transactions file is missing (default 200000)`;

async function main(): Promise<number> {
  let rows: number | undefined;
  try {
    const { values } = parseArgs({ options: { rows: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    rows = parseWholeNumber("rows", values.rows, 1);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }
  try {
    const { defs } = await buildExample({ rows });
    console.log(`\nFeatures are in ${defs.offlineStore.location}.`);
    try {
      const synced = await defs.syncOnline();
      console.log(`\nSynced to ${defs.onlineStore!.description}: ${synced.synced.length} synced, ${synced.skipped.length} unchanged.`);
      const rows = await onlineLookup(defs, ["user_00001", "user_00042"]);
      console.log(`Online lookup, beside the offline store's latest row:\n${lookupTable(rows)}`);
      return rows.every((row) => Object.is(row.online, row.offline)) ? 0 : 1;
    } finally {
      await defs.close();
    }
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

process.exitCode = await main();
