// Runs the online compliance suite against core's in-memory test double, so core's sync and read
// logic is exercised on every change; the real stores run the same suite in their packages.
import { onlineStoreTestSuite } from "@mlforge/online-test-suite";
import { MemoryOnlineStoreDouble } from "./support/memory-online-store";

onlineStoreTestSuite(test, () => new MemoryOnlineStoreDouble());
