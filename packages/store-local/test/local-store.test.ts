import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { offlineStoreTestSuite } from "@mlforge/store-test-suite";
import { LocalStore } from "@mlforge/store-local";

const directories: string[] = [];

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

offlineStoreTestSuite(test, async () => {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-local-"));
  directories.push(directory);
  return new LocalStore(directory);
});
