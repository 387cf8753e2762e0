import { access, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { directorySize, installedPackages, npmInstall, pack, sh } from "./support";

// Packs core, store-local and the CLI, installs the tarballs into a fresh npm project outside the
// workspace, and uses them from ESM, CommonJS and the command line, as a user would.

let root: string;
let project: string;

const TRANSACTIONS = "user_id,amount\nu1,10\nu2,4.5\nu1,2.5\n";

const featureSource = (format: "esm" | "cjs") => {
  const imports =
    format === "esm"
      ? 'import { Definitions, feature } from "@mlforge/core";\nimport { LocalStore } from "@mlforge/store-local";'
      : 'const { Definitions, feature } = require("@mlforge/core");\nconst { LocalStore } = require("@mlforge/store-local");';
  return `${imports}
const defs = new Definitions({
  name: "installed",
  features: [
    feature({ name: "user_total_spend", keys: ["user_id"], source: "transactions.csv" }, (t) =>
      \`SELECT user_id, sum(amount)::DOUBLE AS total_spend FROM \${t} GROUP BY user_id ORDER BY user_id\`),
  ],
  offlineStore: new LocalStore("./store-${format}"),
});
${format === "esm" ? "export { defs };\n" : "module.exports = { defs };\n"}`;
};

const script = (format: "esm" | "cjs") =>
  `${format === "esm" ? 'import { defs } from "./definitions.mjs";' : 'const { defs } = require("./definitions.cjs");'}
(async () => {
  const result = await defs.build();
  const frame = await defs.read("user_total_spend");
  console.log(JSON.stringify({ built: result.built.map((entry) => entry.name), rows: await frame.rows() }));
})();
`;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "mlforge-install-"));
  project = path.join(root, "project");
  const tarballs = path.join(root, "tarballs");
  await sh("mkdir", ["-p", project, tarballs], { cwd: root });
  const packed = [await pack("core", tarballs), await pack("store-local", tarballs), await pack("cli", tarballs)];
  await npmInstall(project, packed);
  await writeFile(path.join(project, "transactions.csv"), TRANSACTIONS);
  for (const format of ["esm", "cjs"] as const) {
    const extension = format === "esm" ? "mjs" : "cjs";
    await writeFile(path.join(project, `definitions.${extension}`), featureSource(format));
    await writeFile(path.join(project, `build.${extension}`), script(format));
  }
}, 300_000);

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

test("installs no @aws-sdk package with core and store-local", async () => {
  const installed = await installedPackages(project);
  expect(installed).toEqual(expect.arrayContaining(["@mlforge/core", "@mlforge/store-local", "@mlforge/cli", "@duckdb/node-api"]));
  expect(installed.filter((name) => name.startsWith("@aws-sdk/") || name.startsWith("@smithy/"))).toEqual([]);
  console.log(`core + store-local + cli installed: ${(await directorySize(path.join(project, "node_modules")) / 2 ** 20).toFixed(1)} MiB`);
});

test.each(["esm", "cjs"] as const)("builds and reads a feature from %s", async (format) => {
  const { stdout } = await sh("node", [`build.${format === "esm" ? "mjs" : "cjs"}`], { cwd: project });
  expect(JSON.parse(stdout)).toEqual({
    built: ["user_total_spend"],
    rows: [
      { user_id: "u1", total_spend: 12.5 },
      { user_id: "u2", total_spend: 4.5 },
    ],
  });
  expect((await readdir(path.join(project, `store-${format}`))).sort()).toEqual(["_metadata", "_versions", "user_total_spend.parquet"]);
});

test("builds with the installed mlforge command", async () => {
  const { stdout } = await sh(path.join(project, "node_modules", ".bin", "mlforge"), ["build", "--target", "definitions.mjs", "--force", "--json"], {
    cwd: project,
  });
  const result = JSON.parse(stdout);
  expect(result.built.map((entry: { name: string; rows: number }) => [entry.name, entry.rows])).toEqual([["user_total_spend", 2]]);
  await access(path.join(project, "store-esm", "_metadata", "user_total_spend.json"));
});
