// `@mlforge/core/store-kit`: what authors of stores and source providers need and users do not.
// Error classes are exported from `@mlforge/core` alone, so that there is one of each.
export { assertFeatureName, FEATURE_NAME_PATTERN } from "./feature";
export { assertStoreKey, dataKey, listFeatureNames, metadataKey, versionDataKey, versionMetadataKey, versionsPrefix } from "./layout";
export type { OfflineStore, OfflineStoreCapabilities, PutFileOptions, StoredObject } from "./offline-store";
export type { OnlineReadRequest, OnlineStore } from "./online-store";
export { checkOptions } from "./options";
export type { CheckOptionsSettings, OptionKind, OptionSpec } from "./options";
export type { RemoteObject, SourceProvider } from "./source-provider";
