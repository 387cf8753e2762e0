// s3rver ships no types: the subset the tests use.
declare module "s3rver" {
  import type { AddressInfo } from "node:net";

  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: Array<{ name: string; configs?: Array<string | Buffer> }>;
  }

  class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }

  export = S3rver;
}

declare module "s3rver/lib/controllers/bucket" {
  const controller: {
    /** The koa handler of GET Bucket (ListObjects and ListObjectsV2). */
    getBucket: (context: any) => Promise<void>;
  };
  export = controller;
}
