// Known fake secrets (an access key id, a secret key and a session token) on S3Store and on
// s3Sources(), then every error path: no message, cause, build result or object in the bucket
// holds any of them. (The CLI's output is checked in packages/cli/test/hygiene.test.ts.)
import { randomUUID } from "node:crypto";
import http from "node:http";
import { createServer, type AddressInfo } from "node:net";
import path from "node:path";
import { inspect } from "node:util";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { BuildError, Definitions, feature, MlforgeError, type Feature, type OfflineStore } from "@mlforge/core";
import type { SourceProvider } from "@mlforge/core/store-kit";
import { S3Store, s3Sources, type S3StoreOptions } from "@mlforge/store-s3";
import { IamGateway } from "./support/iam-gateway";
import { writeTransactions } from "./support/fixtures";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./support/s3-server";

const BUCKET = "mlforge-secrets";
const DATA = "mlforge-secrets-data";
const ACCESS_KEY_ID = "AKIAFAKEQ7X2M9LZP4TR";
const SECRET_ACCESS_KEY = "fAkE/sEcReT+kEy/x9Q2vT7mN4pL8rS1wZ6yB3cD5e";
const SESSION_TOKEN = "FaKeSeSsIoNtOkEn//IQoJb3JpZ2luX2VjEJr//wEaCXVzLWVhc3QtMSJHMEUCIQ==";
const SECRETS = [ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN];
/** Every secret unknown to the server: requests are refused. */
const FAKE = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };
/** s3rver's key id with the fake secret and token: s3rver checks the key id only, so requests to it succeed. */
const WORKING = { accessKeyId: S3RVER_CREDENTIALS.accessKeyId, secretAccessKey: SECRET_ACCESS_KEY, sessionToken: SESSION_TOKEN };

let s3: TestS3Server;
let transactions: string;

beforeAll(async () => {
  s3 = await startS3Server([BUCKET, DATA]);
  transactions = await writeTransactions(s3.directory);
  await s3.client.send(new PutObjectCommand({ Bucket: DATA, Key: "transactions.csv", Body: "user_id,amount\nu1,1\n" }));
});

afterAll(async () => {
  await s3?.close();
  await removeStagedFiles();
});

/** Everything an error shows: its text, its causes' and inner errors' text, a build result's errors, and what util.inspect prints. */
function errorText(error: unknown, seen = new Set<unknown>()): string {
  if (typeof error !== "object" || error === null || seen.has(error)) return String(error);
  seen.add(error);
  const value = error as { message?: unknown; stack?: unknown; cause?: unknown; errors?: unknown[]; result?: BuildError["result"] };
  const parts = [String(value.message), String(value.stack), inspect(error, { depth: 8 })];
  if (value.cause !== undefined) parts.push(errorText(value.cause, seen));
  for (const inner of value.errors ?? []) parts.push(errorText(inner, seen));
  if (value.result !== undefined) {
    parts.push(JSON.stringify(value.result, (key, item) => (item instanceof Error ? errorText(item, seen) : item)));
  }
  return parts.join("\n");
}

/** Runs `work`, which must fail with an mlforge error, and returns everything the error shows. */
async function failureText(work: () => Promise<unknown>): Promise<string> {
  const error = await work().then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(MlforgeError.isInstance(error)).toBe(true);
  return errorText(error);
}

function expectNoSecret(text: string): void {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
  // Nor a recognisable part of one.
  for (const secret of SECRETS) expect(text).not.toContain(secret.slice(0, 12));
}

function store(options: Partial<S3StoreOptions> = {}): S3Store {
  return new S3Store({ bucket: BUCKET, prefix: `secrets/${randomUUID()}`, endpoint: s3.endpoint, credentials: FAKE, cacheDirectory: path.join(s3.directory, "cache"), ...options });
}

function spend(source = transactions): Feature {
  return feature({ name: "user_total_spend", keys: ["user_id"], source }, (relation) => `SELECT user_id, sum(amount) AS total_spend FROM ${relation} GROUP BY user_id`);
}

function definitions(offlineStore: OfflineStore, features: Feature[], sources?: SourceProvider[]): Definitions {
  return new Definitions({ name: "secrets", features, offlineStore, ...(sources === undefined ? {} : { sources }) });
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test("rejected credentials: check, build, list, metadata, read and training data never show a secret", async () => {
  const made = store();
  const defs = definitions(made, [spend()]);
  for (const work of [
    () => made.check(),
    () => defs.build(),
    () => defs.list(),
    () => defs.metadata("user_total_spend"),
    () => defs.read("user_total_spend"),
    () => defs.getTrainingData({ features: ["user_total_spend"], entities: [{ user_id: "u1" }] }),
  ]) {
    const text = await failureText(work);
    expect(text).toContain("InvalidAccessKeyId");
    expectNoSecret(text);
  }
});

test("a signature the server does not accept (wrong secret key) never shows a secret", async () => {
  const gateway = await IamGateway.start({ target: s3.endpoint, credentials: S3RVER_CREDENTIALS });
  try {
    const text = await failureText(() => definitions(store({ endpoint: gateway.endpoint, credentials: WORKING }), [spend()]).build());
    expect(text).toContain("SignatureDoesNotMatch");
    expectNoSecret(text);
  } finally {
    await gateway.close();
  }
});

test("an answer that echoes the signed request, as AWS does for SignatureDoesNotMatch, never reaches the error", async () => {
  // AWS copies the access key id, the string to sign and the canonical request (whose signed headers include x-amz-security-token)
  // into the error; this server puts the key id and the token in the message too, which only the credentials' values can find.
  const server = http.createServer((request, response) => {
    const keyId = /Credential=([^/]+)\//.exec(request.headers.authorization ?? "")?.[1] ?? "";
    const token = String(request.headers["x-amz-security-token"] ?? "");
    request.resume();
    request.once("end", () => {
      response.writeHead(403, { "content-type": "application/xml" });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided for ${keyId} (token ${token}).</Message>` +
          `<AWSAccessKeyId>${keyId}</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 ${keyId}</StringToSign><SignatureProvided>abc</SignatureProvided>` +
          `<CanonicalRequest>GET /\nx-amz-security-token:${token}</CanonicalRequest><RequestId>1</RequestId></Error>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const text = await failureText(() => definitions(store({ endpoint, credentials: FAKE }), [spend()]).build());
    expect(text).toContain("S3 rejected the credentials (SignatureDoesNotMatch)");
    expectNoSecret(text);
    const sourceText = await failureText(() => definitions(store({ credentials: WORKING }), [spend(`s3://${DATA}/transactions.csv`)], [s3Sources({ endpoint, credentials: FAKE })]).build());
    expect(sourceText).toContain("SignatureDoesNotMatch");
    expectNoSecret(sourceText);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("a denied action never shows a secret", async () => {
  const gateway = await IamGateway.start({ target: s3.endpoint });
  gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:ListBucket", "s3:GetObject"], Resource: [`arn:aws:s3:::${BUCKET}`, `arn:aws:s3:::${BUCKET}/*`] }] };
  try {
    const text = await failureText(() => definitions(store({ endpoint: gateway.endpoint, credentials: WORKING }), [spend()]).build());
    expect(text).toContain("Access denied: these credentials may not perform s3:PutObject");
    expectNoSecret(text);
  } finally {
    await gateway.close();
  }
});

test("a missing bucket and a refused endpoint never show a secret", async () => {
  const missing = await failureText(() => definitions(store({ bucket: "no-such-bucket", credentials: WORKING }), [spend()]).build());
  expect(missing).toContain("NoSuchBucket");
  expectNoSecret(missing);
  const endpoint = `http://127.0.0.1:${await closedPort()}`;
  const refused = await failureText(() => definitions(store({ endpoint, credentials: FAKE }), [spend()]).build());
  expect(refused).toContain("ECONNREFUSED");
  expectNoSecret(refused);
}, 30_000);

test("s3:// sources with rejected credentials, a missing bucket or a denied read never show a secret", async () => {
  const made = store({ credentials: WORKING });
  const gateway = await IamGateway.start({ target: s3.endpoint });
  gateway.policy = { Statement: [{ Effect: "Allow", Action: ["s3:ListBucket"], Resource: [`arn:aws:s3:::${DATA}`] }] };
  try {
    for (const [sources, source, expected] of [
      [s3Sources({ endpoint: s3.endpoint, credentials: FAKE }), `s3://${DATA}/transactions.csv`, "InvalidAccessKeyId"],
      [s3Sources({ endpoint: s3.endpoint, credentials: WORKING }), "s3://no-such-data-bucket/transactions.csv", "matched no object"],
      [s3Sources({ endpoint: gateway.endpoint, credentials: WORKING }), `s3://${DATA}/transactions.csv`, "s3:GetObject"],
    ] as const) {
      const text = await failureText(() => definitions(made, [spend(source)], [sources]).build());
      expect(text).toContain(expected);
      expectNoSecret(text);
    }
  } finally {
    await gateway.close();
  }
});

test("a build with a SQL error beside a good feature: neither the error nor anything it wrote to the bucket holds a secret", async () => {
  const made = store({ credentials: WORKING });
  const broken = feature({ name: "broken", keys: ["user_id"], source: `s3://${DATA}/transactions.csv` }, (relation) => `SELECT user_id, sum(no_such_column) AS total FROM ${relation} GROUP BY user_id`);
  const sources = s3Sources({ endpoint: s3.endpoint, credentials: WORKING });
  const text = await failureText(() => definitions(made, [spend(), broken], [sources]).build());
  expect(text).toContain("no_such_column");
  expectNoSecret(text);

  const keys = await s3.keys(BUCKET, made.prefix);
  // The good feature, its document and its kept version (data and document).
  expect(keys.filter((key) => !key.startsWith(`${made.prefix}/_versions/user_total_spend/`))).toEqual([`${made.prefix}/_metadata/user_total_spend.json`, `${made.prefix}/user_total_spend.parquet`]);
  expect(keys).toHaveLength(4);
  for (const key of keys) {
    const response = await s3.client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    // Parquet footers and metadata documents: as text, every byte.
    expectNoSecret(Buffer.from(await response.Body!.transformToByteArray()).toString("latin1"));
  }
  // What core reports about the stored feature, too.
  const frame = await definitions(made, [spend()]).read("user_total_spend");
  expectNoSecret(JSON.stringify(frame.metadata));
});

test("an error answer that echoes the token and key id in nested elements: neither survives in the cause, its JSON, its inspection or the SDK's hidden $response", async () => {
  const server = http.createServer((request, response) => {
    const keyId = /Credential=([^/]+)\//.exec(request.headers.authorization ?? "")?.[1] ?? "";
    const token = String(request.headers["x-amz-security-token"] ?? "");
    request.resume();
    request.once("end", () => {
      response.writeHead(400, { "content-type": "application/xml" });
      response.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidRequest</Code><Message>Bad request.</Message>` +
          `<Details><Request><SecurityToken>${token}</SecurityToken><Caller><KeyId>${keyId}</KeyId></Caller></Request></Details><RequestId>1</RequestId></Error>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const made = store({ endpoint, credentials: FAKE });
    const error = await made.check().then(
      () => undefined,
      (reason: unknown) => reason as Error & { cause: Record<string, unknown> },
    );
    expect(MlforgeError.isInstance(error)).toBe(true);
    expect(error!.message).toContain("InvalidRequest");
    const cause = error!.cause;
    expectNoSecret(errorText(error));
    expectNoSecret(JSON.stringify(cause));
    expectNoSecret(inspect(cause, { depth: 12 }));
    // The SDK keeps the raw answer, non-enumerable, as $response: it must not hold the request's headers either.
    expectNoSecret(inspect(cause.$response, { depth: 6, showHidden: true }));
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test("credentials written into the endpoint URL never show in a message or a cause", async () => {
  const port = await closedPort();
  const endpoint = `http://${encodeURIComponent(ACCESS_KEY_ID)}:${encodeURIComponent(SECRET_ACCESS_KEY)}@127.0.0.1:${port}`;
  const text = await failureText(() => store({ endpoint, credentials: { accessKeyId: "AKIAOTHERKEY0000", secretAccessKey: "other-secret-0000" } }).check());
  expect(text).toContain("ECONNREFUSED");
  expect(text).toContain(`http://127.0.0.1:${port}`);
  expectNoSecret(text);
  expect(text).not.toContain(encodeURIComponent(SECRET_ACCESS_KEY).slice(0, 12));
}, 30_000);
