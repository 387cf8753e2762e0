import { once } from "node:events";
import { readdir, readFile, rm, stat } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import S3Error from "s3rver/lib/models/error";

/** Where s3rver 3.7.1's file system store keeps a bucket's multipart uploads: one directory per upload id, holding `key`, `metadata` and the parts. */
const UPLOADS = "._S3rver_uploads";

/** A multipart upload that was created and neither completed nor aborted. */
interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

interface Context {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
  req: IncomingMessage;
}

async function uploadsOf(root: string, bucket: string): Promise<IncompleteUpload[]> {
  const directory = path.join(root, bucket, UPLOADS);
  const ids = await readdir(directory).catch(() => [] as string[]);
  const uploads = await Promise.all(ids.map((uploadId) => uploadAt(directory, uploadId)));
  return uploads.filter((upload): upload is IncompleteUpload => upload !== undefined).sort((a, b) => (a.key === b.key ? (a.uploadId < b.uploadId ? -1 : 1) : a.key < b.key ? -1 : 1));
}

async function uploadAt(directory: string, uploadId: string): Promise<IncompleteUpload | undefined> {
  const key = await readFile(path.join(directory, uploadId, "key"), "utf8").catch(() => undefined);
  if (key === undefined) return undefined;
  const { birthtime, mtime } = await stat(path.join(directory, uploadId));
  return { key, uploadId, initiated: birthtime.getTime() > 0 ? birthtime : mtime };
}

function noSuchUpload(uploadId: string): Error {
  return new S3Error("NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", { UploadId: uploadId });
}

/**
 * What s3rver 3.7.1 lacks of multipart uploads, as S3 does it: ListMultipartUploads (`GET
 * /<bucket>?uploads`, with `prefix`; one page, no markers), AbortMultipartUpload (`DELETE
 * /<bucket>/<key>?uploadId=`, which it answers 405) and NoSuchUpload for a part sent to an upload
 * that is not open (s3rver would create the upload's directory again). A Koa middleware on path-style
 * requests, placed before s3rver's router; `root` is s3rver's `directory`.
 */
export function multipartUploads(root: string) {
  return async function multipartUploadsMiddleware(context: Context, next: () => Promise<void>): Promise<void> {
    const [, bucket = "", ...rest] = context.path.split("/").map((part) => decodeURIComponent(part));
    const key = rest.join("/");
    const uploadId = typeof context.query.uploadId === "string" ? context.query.uploadId : undefined;
    if (bucket === "" || uploadId?.includes("/") || uploadId?.includes("..")) return next();

    if (context.method === "GET" && key === "" && "uploads" in context.query) {
      const prefix = typeof context.query.prefix === "string" ? context.query.prefix : "";
      const uploads = (await uploadsOf(root, bucket)).filter((upload) => upload.key.startsWith(prefix));
      context.body = {
        ListMultipartUploadsResult: {
          "@": { xmlns: "http://s3.amazonaws.com/doc/2006-03-01/" },
          Bucket: bucket,
          KeyMarker: "",
          UploadIdMarker: "",
          Prefix: prefix,
          MaxUploads: 1000,
          IsTruncated: false,
          Upload: uploads.map((upload) => ({ Key: upload.key, UploadId: upload.uploadId, Initiated: upload.initiated.toISOString(), StorageClass: "STANDARD" })),
        },
      };
      return;
    }
    if (key === "" || uploadId === undefined) return next();
    const upload = await uploadAt(path.join(root, bucket, UPLOADS), uploadId);
    if (context.method === "DELETE") {
      if (upload === undefined || upload.key !== key) throw noSuchUpload(uploadId);
      // Retried: a part still being received (its client cut off) may add a file while the directory goes.
      await rm(path.join(root, bucket, UPLOADS, uploadId), { recursive: true, force: true, maxRetries: 10, retryDelay: 5 });
      context.status = 204;
      return;
    }
    if (context.method === "PUT" && "partNumber" in context.query && (upload === undefined || upload.key !== key)) {
      // Read the part first, as S3 does, so that the client is not cut off mid-upload.
      context.req.resume();
      if (!context.req.readableEnded) await once(context.req, "end");
      throw noSuchUpload(uploadId);
    }
    return next();
  };
}
