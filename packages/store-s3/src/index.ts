export { S3Store } from "./s3-store";
export type { S3StoreOptions } from "./s3-store";
