import { randomUUID } from "node:crypto";
import path from "node:path";
import { S3Store } from "@mlforge/store-s3";
import { writeTransactions } from "./fixtures";
import { IamGateway } from "./iam-gateway";
import { removeStagedFiles, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "./s3-server";

/** An s3rver behind the IAM gateway, with the test transactions beside it, for one test file. */
export interface IamFixture {
  s3: TestS3Server;
  gateway: IamGateway;
  /** The transactions CSV of `writeTransactions`. */
  transactions: string;
  /** A fresh store through the gateway, with its own cache so that every read really downloads. */
  store(prefix?: string): S3Store;
}

/** Starts the fixture before the file's tests and stops it after them; its fields are set once `beforeAll` has run. */
export function useIamFixture(bucket: string): IamFixture {
  const fixture = {
    store: (prefix = `team-${randomUUID()}/features`) =>
      new S3Store({ bucket, prefix, endpoint: fixture.gateway.endpoint, credentials: S3RVER_CREDENTIALS, cacheDirectory: path.join(fixture.s3.directory, `cache-${randomUUID()}`) }),
  } as IamFixture;
  beforeAll(async () => {
    fixture.s3 = await startS3Server([bucket]);
    fixture.gateway = await IamGateway.start({ target: fixture.s3.endpoint, credentials: S3RVER_CREDENTIALS });
    fixture.transactions = await writeTransactions(fixture.s3.directory);
  });
  afterAll(async () => {
    await fixture.gateway?.close();
    await fixture.s3?.close();
    await removeStagedFiles();
  });
  return fixture;
}
