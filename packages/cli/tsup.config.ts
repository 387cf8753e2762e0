import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.config.base";

// A command: ESM only, with the bin as a second entry.
export default defineConfig({ ...packageBuild, entry: ["src/index.ts", "src/bin.ts"], format: ["esm"] });
