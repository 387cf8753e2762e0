// Usage: npm run start:s3 -- [--port 0] [--rows 200000]
// Starts an S3-compatible server (s3rver) on 127.0.0.1, runs `npm start`'s flow against it with
// ENVIRONMENT=dev, builds a second time (every feature skipped), lists the bucket and stops the server.
import { parseArgs } from "node:util";
import { S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "@mlforge/s3-test-server";
import { buildExample } from "./build-example";
import { s3Location } from "./get-store";
import { parseWholeNumber } from "./parse-whole-number";

const usage = `Usage: npm run start:s3 -- [--port N] [--rows N]

  --port N   port of the S3 server on 127.0.0.1 (default 0: a free one)
  --rows N   transactions to generate when the transactions file is missing (default 200000)`;

async function main(): Promise<number> {
  let port: number;
  let rows: number | undefined;
  try {
    const { values } = parseArgs({ options: { port: { type: "string" }, rows: { type: "string" }, help: { type: "boolean", short: "h" } } });
    if (values.help) {
      console.log(usage);
      return 0;
    }
    port = parseWholeNumber("port", values.port, 0, 65_535) ?? 0;
    rows = parseWholeNumber("rows", values.rows, 1);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
    return 2;
  }

  const { bucket, prefix } = s3Location("dev");
  let server: TestS3Server;
  try {
    server = await startS3Server([bucket], { port });
  } catch (error) {
    console.error(`Could not start the S3 server on 127.0.0.1:${port}: ${error instanceof Error ? error.message : String(error)}. Pick another --port, or 0 for a free one.`);
    return 1;
  }
  try {
    // What definitions.ts reads: the dev store, on this server, with s3rver's one key pair.
    process.env.ENVIRONMENT = "dev";
    process.env.S3_ENDPOINT = server.endpoint;
    process.env.AWS_ACCESS_KEY_ID = S3RVER_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = S3RVER_CREDENTIALS.secretAccessKey;
    delete process.env.AWS_SESSION_TOKEN;
    // Staged uploads and the store's download cache go to os.tmpdir(): keep them in the server's directory, which close() removes.
    process.env.TMPDIR = process.env.TMP = process.env.TEMP = server.directory;
    console.log(`S3 server (s3rver) on ${server.endpoint}, bucket '${bucket}'; ENVIRONMENT=dev stores features under s3://${bucket}/${prefix}.\n`);

    const { defs } = await buildExample({ rows });
    console.log(`\nFeatures are in ${defs.offlineStore.location}.`);
    console.log("\nBuilding again: nothing changed, so every feature is skipped.\n");
    await buildExample();

    const keys = await server.keys(bucket);
    console.log(`\nObjects in s3://${bucket} (${keys.length}):`);
    for (const key of keys) console.log(`  ${key}`);
    return 0;
  } catch (error) {
    console.error(`\n${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await server.close();
    console.log("\nS3 server stopped.");
  }
}

process.exitCode = await main();
