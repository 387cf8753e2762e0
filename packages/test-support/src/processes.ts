/**
 * `@mlforge/test-support/processes`: starting, killing and waiting for child processes. Free of
 * DuckDB, so that the published compliance suites can bundle it (tsup bundles this private
 * package, a devDependency, into their `dist`).
 */
export { killChildren, nodeArguments, startChild, type ChildOutcome, type RunningChild } from "./start-child";
export { killTimes, seededRandom } from "./kill-times";
export { eventually, rejection, sleep, within } from "./timing";
