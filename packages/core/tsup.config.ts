import { defineConfig } from "tsup";
import { packageBuild } from "../../tsup.config.base";

export default defineConfig({
  ...packageBuild,
  entry: ["src/index.ts", "src/store-kit.ts"],
  // Both entries share chunks in CommonJS too, so that each error class exists once and `instanceof` holds across them.
  splitting: true,
});
