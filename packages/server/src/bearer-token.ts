import { createHash, timingSafeEqual } from "node:crypto";

/** Checks `Authorization: Bearer <token>` headers against one token in constant time. */
export class BearerToken {
  private readonly digest: Buffer;

  constructor(token: string) {
    // Digests have one length, so the comparison takes the same time whatever the header holds.
    this.digest = createHash("sha256").update(token).digest();
  }

  /** True when `header` is `Bearer <token>` with the right token. */
  accepts(header: string | undefined): boolean {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? "");
    const given = createHash("sha256").update(match?.[1] ?? "").digest();
    return timingSafeEqual(given, this.digest) && match !== null;
  }
}
