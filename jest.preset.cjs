// One Jest preset for every package: TypeScript through SWC, workspace packages from source.
const path = require("node:path");

const swc = [
  "@swc/jest",
  {
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
  },
];

/** @param {string} dirname the package folder */
module.exports = (dirname) => ({
  displayName: path.relative(__dirname, dirname),
  rootDir: dirname,
  testEnvironment: "node",
  testMatch: ["<rootDir>/test/**/*.test.ts"],
  transform: { "^.+\\.ts$": swc },
  moduleNameMapper: {
    "^@mlforge/core/store-kit$": path.join(__dirname, "packages/core/src/store-kit.ts"),
    "^@mlforge/test-support/processes$": path.join(__dirname, "packages/test-support/src/processes.ts"),
    "^@mlforge/(core|store-local|store-s3|store-test-suite|s3-test-server|test-support|online-local|online-redis|online-test-suite|redis-test-server|server)$": path.join(__dirname, "packages/$1/src/index.ts"),
  },
});
