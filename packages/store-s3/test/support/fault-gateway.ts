import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { classify } from "./iam-gateway";

/** What the gateway does to a request instead of (or before) forwarding it. */
export type Fault =
  /** Answers with an S3 error, as S3 does under trouble: 500 InternalError, 503 SlowDown. */
  | { kind: "error"; status: number; code: string }
  /** Reads this many bytes of the request body, then destroys the connection (a reset mid-upload). */
  | { kind: "reset"; afterBytes: number }
  /** Forwards the request this many milliseconds late. */
  | { kind: "delay"; ms: number }
  /** Reads the request and never answers. */
  | { kind: "hang" };

/** A fault for the requests that match, `times` times (`Infinity`: for good). */
export interface FaultRule {
  fault: Fault;
  /** How many matching requests get the fault. */
  times: number;
  /** S3 operations it applies to (PutObject, UploadPart, ListObjectsV2…). @default every operation */
  operations?: readonly string[];
  /** Only requests whose key ends with this (".parquet", ".json"). @default any key */
  keySuffix?: string;
}

/** What the gateway saw of one request. */
export interface FaultRequest {
  method: string;
  /** The S3 API operation: GetObject, PutObject, UploadPart… */
  operation: string;
  /** The object key, without the bucket ("" for bucket requests). */
  key: string;
  /** The multipart upload the request belongs to. */
  uploadId?: string;
  /** The fault it got, if any. */
  fault?: Fault["kind"];
  /** The status sent back (by the gateway or the server). */
  status?: number;
}

/**
 * A small HTTP proxy in front of an S3 server that injects faults: S3 errors, connections reset
 * in the middle of an upload, late answers and no answers, each for the first N matching requests
 * or for good. Everything else is forwarded unchanged (bodies streamed), and every request is
 * recorded.
 */
export class FaultGateway {
  /** Every request seen, in order. */
  readonly requests: FaultRequest[] = [];
  private readonly rules: FaultRule[] = [];
  private readonly hanging = new Set<http.ServerResponse>();
  private readonly timers = new Set<NodeJS.Timeout>();

  private constructor(
    private readonly server: http.Server,
    private readonly agent: http.Agent,
    private readonly target: URL,
    /** `http://127.0.0.1:<port>`, the endpoint to give S3Store. */
    readonly endpoint: string,
  ) {}

  /** Starts the gateway on 127.0.0.1 and an ephemeral port, forwarding to `target` (`http://127.0.0.1:<port>`). */
  static async start(target: string): Promise<FaultGateway> {
    const server = http.createServer();
    const agent = new http.Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) => server.once("error", reject).listen(0, "127.0.0.1", resolve));
    const gateway = new FaultGateway(server, agent, new URL(target), `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on("request", (request: http.IncomingMessage, response: http.ServerResponse) => gateway.handle(request, response));
    return gateway;
  }

  /** Adds a fault rule; rules apply in the order added, the first with requests left wins. */
  inject(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  /** Forgets every rule and every recorded request, and ends hanging requests. */
  reset(): void {
    this.rules.length = 0;
    this.requests.length = 0;
    for (const response of this.hanging) response.destroy();
    this.hanging.clear();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** The operations seen, in order. */
  operations(): string[] {
    return this.requests.map((request) => request.operation);
  }

  /** Stops the gateway and closes its connections. */
  async close(): Promise<void> {
    this.reset();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.agent.destroy();
  }

  private ruleFor(operation: string, key: string): FaultRule | undefined {
    const rule = this.rules.find(
      (candidate) =>
        candidate.times > 0 &&
        (candidate.operations === undefined || candidate.operations.includes(operation)) &&
        (candidate.keySuffix === undefined || key.endsWith(candidate.keySuffix)),
    );
    if (rule !== undefined) rule.times--;
    return rule;
  }

  private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? "/", "http://gateway");
    const method = request.method ?? "GET";
    const { operation } = classify(method, url.pathname, url.searchParams, request.headers);
    const key = decodeURIComponent(url.pathname.split("/").slice(2).join("/"));
    const record: FaultRequest = { method, operation, key, uploadId: url.searchParams.get("uploadId") ?? undefined };
    this.requests.push(record);
    const fault = this.ruleFor(operation, key)?.fault;
    record.fault = fault?.kind;

    if (fault?.kind === "error") {
      record.status = fault.status;
      // Read the body first, as S3 does, so that the client is not cut off mid-upload.
      request.resume();
      request.once("end", () => {
        const body =
          method === "HEAD"
            ? ""
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>Injected ${fault.code}.</Message>` +
              `<RequestId>${randomBytes(8).toString("hex")}</RequestId></Error>`;
        response.writeHead(fault.status, { "content-type": "application/xml" }).end(body);
      });
      return;
    }
    if (fault?.kind === "reset") {
      let received = 0;
      const cut = () => request.socket.destroy();
      request.on("data", (chunk: Buffer) => {
        received += chunk.length;
        if (received >= fault.afterBytes) cut();
      });
      // A body shorter than the cut-off point: the connection breaks before the answer.
      request.once("end", cut);
      return;
    }
    if (fault?.kind === "hang") {
      this.hanging.add(response);
      response.once("close", () => this.hanging.delete(response));
      request.resume();
      return;
    }
    const forward = () => {
      const upstream = http.request(
        { host: this.target.hostname, port: this.target.port, method, path: request.url, headers: request.headers, agent: this.agent },
        (answer) => {
          record.status = answer.statusCode;
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on("error", (error) => response.destroy(error));
      request.pipe(upstream);
    };
    if (fault?.kind === "delay") {
      // Held back, not read: the body waits in the socket, as it would behind a slow server.
      request.pause();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        forward();
      }, fault.ms);
      this.timers.add(timer);
      return;
    }
    forward();
  }
}
