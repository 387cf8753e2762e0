import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.config.base";

export default defineConfig({
  ...packageBuild,
  // ./processes is a second entry: free of DuckDB, it is what the published suites bundle.
  entry: ["src/index.ts", "src/processes.ts"],
});
