export { BuildError } from "./build-error";
export { FeatureBuildError } from "./feature-build-error";
export { FeatureDefinitionError } from "./feature-definition-error";
export { FeatureNotFoundError } from "./feature-not-found-error";
export { MlforgeError } from "./mlforge-error";
export { SourceNotFoundError } from "./source-not-found-error";
export { StoreAccessError } from "./store-access-error";
