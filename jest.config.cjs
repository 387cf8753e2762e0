/** Runs every package's tests in one Jest run, so one summary covers the whole repository. */
module.exports = {
  projects: ["<rootDir>/packages/*/jest.config.cjs", "<rootDir>/apps/*/jest.config.cjs"],
  // A global option: per-project presets cannot set it.
  testTimeout: 120_000,
  reporters: ["default", "<rootDir>/tools/summary-reporter.cjs"],
};
