// Usage: npm run build (or pnpm build) -- [--rows 200000]
// Generates the transactions when they are missing and builds every feature, running its checks.
// Turbo's monorepo-wide `build` task runs this script too (it is the package's `build`); there it
// only compiles nothing and returns, so `turbo run build` stays a build of the packages.
import { parseArgs } from "node:util";
import { buildExample } from "./build-example";
import { parseWholeNumber } from "./parse-whole-number";

async function main(): Promise<number> {
  if (process.env.TURBO_HASH !== undefined) {
    console.log("Skipping the example's feature build under turbo; run `pnpm build` in apps/example to build the features.");
    return 0;
  }
  let rows: number | undefined;
  try {
    const { values } = parseArgs({ options: { rows: { type: "string" } } });
    rows = parseWholeNumber("rows", values.rows, 1);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\nUsage: pnpm build -- [--rows N]`);
    return 2;
  }
  try {
    const { defs, results } = await buildExample({ rows });
    const warnings = results.flatMap((result) => (result.checks ?? []).filter((check) => !check.passed).map((check) => ({ name: result.name, check })));
    for (const { name, check } of warnings) {
      console.log(`warning: ${name}.${check.column} ${check.check}: ${check.failingRows.toLocaleString("en-US")} of ${check.rows.toLocaleString("en-US")} rows`);
    }
    await defs.close();
    return 0;
  } catch {
    // buildExample printed the failures.
    return 1;
  }
}

process.exitCode = await main();
