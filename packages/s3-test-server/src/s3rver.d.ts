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
    /** Koa's middleware list; s3rver's router is the last entry. */
    middleware: Array<(context: any, next: () => Promise<void>) => Promise<void> | void>;
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

declare module "s3rver/lib/models/error" {
  /** s3rver's S3 error: thrown from a handler, it is answered as S3's XML error with the code's HTTP status. */
  class S3Error extends Error {
    constructor(code: string, message?: string, detail?: Record<string, string>);
  }
  export = S3Error;
}
