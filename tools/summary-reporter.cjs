// Prints the closing line CI reads: "N passed, N failed" (suites that fail to load count as failed),
// with ", N skipped" after it when any test was skipped (e.g. the slow tiers with MLFORGE_SLOW_TESTS=0).
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`\n${results.numPassedTests} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}\n`);
  }
}
module.exports = SummaryReporter;
