import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.config.base";

export default defineConfig({
  ...packageBuild,
  // The sync child is a second entry: onlineCrashTestSuite spawns dist/sync-child.(c)js by path.
  entry: ["src/index.ts", "src/sync-child.ts"],
  // __dirname and __filename in the ESM build too: startSync finds the child beside itself.
  shims: true,
  // A private package, never published: its helpers are bundled into dist (it is a devDependency).
  noExternal: ["@mlforge/test-support"],
});
