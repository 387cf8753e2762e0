// LocalOnlineStore passes the online compliance suite unchanged: each test gets a fresh directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { onlineStoreTestSuite } from "@mlforge/online-test-suite";
import { LocalOnlineStore } from "@mlforge/online-local";

const directories: string[] = [];

afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

onlineStoreTestSuite(test, async () => {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-local-suite-"));
  directories.push(directory);
  return new LocalOnlineStore(path.join(directory, "online_store"));
});
