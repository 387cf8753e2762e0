import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "@mlforge/s3-test-server";
import { directorySize, installedPackages, npmInstall, pack, sh } from "./support";

// Packs core and store-s3, installs the tarballs into a fresh npm project outside the workspace,
// and builds a feature into the test S3 server from ESM and CommonJS, as a user would.

let root: string;
let project: string;
let server: TestS3Server;

const program = (format: "esm" | "cjs", prefix: string) => `${
  format === "esm"
    ? 'import { Definitions, feature } from "@mlforge/core";\nimport { S3Store } from "@mlforge/store-s3";'
    : 'const { Definitions, feature } = require("@mlforge/core");\nconst { S3Store } = require("@mlforge/store-s3");'
}
const defs = new Definitions({
  name: "installed",
  features: [
    feature({ name: "user_total_spend", keys: ["user_id"], source: "transactions.csv" }, (t) =>
      \`SELECT user_id, sum(amount)::DOUBLE AS total_spend FROM \${t} GROUP BY user_id ORDER BY user_id\`),
  ],
  offlineStore: new S3Store({
    bucket: "features",
    prefix: "${prefix}",
    endpoint: process.env.S3_ENDPOINT,
    credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
  }),
});
(async () => {
  const result = await defs.build();
  const frame = await defs.read("user_total_spend");
  console.log(JSON.stringify({ built: result.built.map((entry) => entry.uri), rows: await frame.rows() }));
})();
`;

beforeAll(async () => {
  server = await startS3Server(["features"]);
  root = await mkdtemp(path.join(tmpdir(), "mlforge-install-s3-"));
  project = path.join(root, "project");
  const tarballs = path.join(root, "tarballs");
  await sh("mkdir", ["-p", project, tarballs], { cwd: root });
  await npmInstall(project, [await pack("core", tarballs), await pack("store-s3", tarballs)]);
  await writeFile(path.join(project, "transactions.csv"), "user_id,amount\nu1,10\nu2,4.5\nu1,2.5\n");
  await writeFile(path.join(project, "build.mjs"), program("esm", "prod/esm"));
  await writeFile(path.join(project, "build.cjs"), program("cjs", "prod/cjs"));
}, 300_000);

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

test("installs the AWS SDK with store-s3, and no store-local", async () => {
  const installed = await installedPackages(project);
  expect(installed).toEqual(expect.arrayContaining(["@mlforge/core", "@mlforge/store-s3", "@aws-sdk/client-s3", "@aws-sdk/lib-storage"]));
  expect(installed).not.toContain("@mlforge/store-local");
  console.log(`core + store-s3 installed: ${(await directorySize(path.join(project, "node_modules")) / 2 ** 20).toFixed(1)} MiB`);
});

test.each(["esm", "cjs"] as const)("builds into the S3 server and reads back from %s", async (format) => {
  const env = { S3_ENDPOINT: server.endpoint, AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey };
  const { stdout } = await sh("node", [`build.${format === "esm" ? "mjs" : "cjs"}`], { cwd: project, env });
  expect(JSON.parse(stdout.trim().split("\n").pop()!)).toEqual({
    built: [`s3://features/prod/${format}/user_total_spend.parquet`],
    rows: [
      { user_id: "u1", total_spend: 12.5 },
      { user_id: "u2", total_spend: 4.5 },
    ],
  });
  expect(await server.keys("features", `prod/${format}/`)).toEqual([
    `prod/${format}/_metadata/user_total_spend.json`,
    expect.stringMatching(new RegExp(`^prod/${format}/_versions/user_total_spend/[0-9a-f]{32}\\.json$`)),
    expect.stringMatching(new RegExp(`^prod/${format}/_versions/user_total_spend/[0-9a-f]{32}\\.parquet$`)),
    `prod/${format}/user_total_spend.parquet`,
  ]);
});
