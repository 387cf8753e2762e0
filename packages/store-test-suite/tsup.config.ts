import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.config.base";

export default defineConfig({
  ...packageBuild,
  // The build child is a second entry: crashTestSuite spawns dist/build-child.(c)js by path.
  entry: ["src/index.ts", "src/build-child.ts"],
  // __dirname and __filename in the ESM build too: startBuild finds the child beside itself.
  shims: true,
  // A private package, never published: its helpers are bundled into dist (it is a devDependency).
  noExternal: ["@mlforge/test-support"],
});
