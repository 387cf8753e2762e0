import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";

export { plainClient, S3RVER_CREDENTIALS, startS3Server, type TestS3Server } from "@mlforge/s3-test-server";

/** Removes the staged files S3Store made in os.tmpdir() for this process (the compliance suite leaves one unpublished on purpose). */
export async function removeStagedFiles(): Promise<void> {
  const pattern = new RegExp(`^mlforge-s3-[A-Za-z0-9_]+-${process.pid}-[0-9a-f]+\\.parquet$`);
  const entries = await readdir(tmpdir());
  await Promise.all(entries.filter((entry) => pattern.test(entry)).map((entry) => rm(path.join(tmpdir(), entry), { force: true })));
}
