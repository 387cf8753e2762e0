export { S3Store } from "./s3-store";
export type { S3StoreOptions } from "./s3-store";
export { s3Sources } from "./s3-sources";
export type { S3SourcesOptions } from "./s3-sources";
