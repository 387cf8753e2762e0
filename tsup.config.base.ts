import type { Options } from "tsup";

/** How every package builds: ESM and CommonJS with types, for Node 20. Packages extend it. */
export const packageBuild: Options = {
  entry: ["src/index.ts"],
  format: ["esm", "cjs"],
  dts: true,
  clean: true,
  sourcemap: true,
  target: "node20",
};
