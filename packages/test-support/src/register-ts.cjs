// Lets a child process run this repository's TypeScript sources the way Jest does (the root
// jest.preset.cjs), so that a test's child (the suites' build and sync children, a store's helper
// process) runs from source under Jest; from `dist` they run as plain JavaScript. @swc/core
// compiles each .ts file to CommonJS as it is required, and `@mlforge/<package>` resolves to
// packages/<package>/src/index.ts.
// Use: node packages/test-support/src/register-ts.cjs some-script.ts [arguments…] (the script then
// sees its arguments from process.argv[2], as if run directly); `nodeArguments()` builds this.
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const { transformSync } = require("@swc/core");

const packages = path.resolve(__dirname, "../..");
const workspacePackage = /^@mlforge\/([a-z0-9-]+)$/;

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  const match = workspacePackage.exec(request);
  return resolveFilename.call(this, match ? path.join(packages, match[1], "src", "index.ts") : request, ...rest);
};

Module._extensions[".ts"] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, "utf8"), {
    filename,
    jsc: { parser: { syntax: "typescript" }, target: "es2022" },
    module: { type: "commonjs" },
    sourceMaps: "inline",
  });
  module._compile(code, filename);
};

if (require.main === module) {
  const script = path.resolve(process.argv[2]);
  process.argv.splice(1, 1);
  process.argv[1] = script;
  require(script);
}
