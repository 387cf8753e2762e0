/**
 * `@mlforge/online-test-suite`: the compliance suite every mlforge online store runs unchanged.
 *
 * ```ts
 * import { onlineStoreTestSuite } from "@mlforge/online-test-suite";
 * onlineStoreTestSuite(test, async () => new LocalOnlineStore(await mkdtemp(...)));
 * ```
 *
 * Each test gets a fresh, empty store from the factory, builds small features with `LocalStore`
 * into a temporary directory and syncs them into the store under test. Stores may also opt into
 * `onlineCrashTestSuite`: syncs in child processes killed with SIGKILL, and concurrent syncs.
 */
export { onlineStoreTestSuite } from "./online-store-test-suite";
export type { OnlineStoreFactory, TestFunction } from "./online-store-test-suite";
export { onlineCrashTestSuite, wholeBuild, type OnlineCrashTestSuiteOptions, type TimedTestFunction } from "./online-crash-test-suite";
export type { OnlineStoreDescription } from "./online-store-description";
export { buildNumbered, NUMBERED_FEATURE, NUMBERED_KEYS, numberedDefinitions, numberedFeature, numberedRows, numberedSourceCsv } from "./build-numbered";
export { wrapOnlineStore } from "./wrap-online-store";
export type { OnlineStoreMethod } from "./wrap-online-store";
