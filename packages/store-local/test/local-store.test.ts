import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { offlineStoreTestSuite } from "@mlforge/store-test-suite";
import { LocalStore } from "@mlforge/store-local";

offlineStoreTestSuite(test, async () => new LocalStore(await mkdtemp(path.join(tmpdir(), "mlforge-local-"))));
