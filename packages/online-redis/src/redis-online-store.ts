import { createClient, type RedisClientType, type RedisClusterType } from "redis";
import { StoreAccessError, type OnlineReadRequest, type OnlineStore } from "@mlforge/core";
import { redact, redactedError } from "./redaction";

/** A node-redis 5+ client, whatever modules or scripts it was created with. */
export type RedisClient = RedisClientType<any, any, any, any, any>;
/** A node-redis 5+ cluster client (`createCluster({ rootNodes })`). */
export type RedisCluster = RedisClusterType<any, any, any, any, any>;

/** Options of `new RedisOnlineStore()`. */
export interface RedisOnlineStoreOptions {
  /**
   * `redis[s]://[[user]:password@]host[:port][/db]`; the store makes, connects (on first use) and closes its own client.
   * @default "redis://localhost:6379/0" when `client` is not given either
   */
  url?: string;
  /** A node-redis client or cluster that the caller owns: the store connects it if needed but never closes it. Used instead of `url`. */
  client?: RedisClient | RedisCluster;
  /**
   * Start of every key the store writes: namespace `n` is the hash `<prefix>:{n}`.
   * @default "mlforge"
   */
  prefix?: string;
  /**
   * Longest wait, in milliseconds, for a connection or a reply before a call rejects with `StoreAccessError`.
   * @default 5000
   */
  timeout?: number;
}

/** The subset of node-redis commands the store uses, common to a client and a cluster. */
interface Commands {
  hmGet(key: string, fields: string[]): Promise<Array<string | null>>;
  hSet(key: string, fields: Array<[string, string]>): Promise<number>;
  unlink(key: string): Promise<number>;
  hLen(key: string): Promise<number>;
}

/** Fields per HMGET or HSET: bounded so that no single command stalls Redis or builds a huge reply. */
const FIELDS_PER_COMMAND = 1000;
/** HSET commands in flight at once while putting: pipelined, but without queueing a whole build in memory. */
const COMMANDS_IN_FLIGHT = 64;
/** Longest pause between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 1000;

const AUTH_FAILURE = /^(WRONGPASS|NOAUTH)|invalid password|invalid username-password/i;
const UNREACHABLE = new Set(["ClientOfflineError", "ClientClosedError", "SocketClosedUnexpectedlyError", "ConnectionTimeoutError", "ReconnectStrategyError"]);

function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/** node-redis names its errors by class (`ClientOfflineError`, `TimeoutError`) but leaves `name` as "Error". */
function errorName(error: unknown): string {
  const className = (error as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  if (typeof className === "string" && className !== "Error") return className;
  return String((error as { name?: unknown } | null)?.name ?? "");
}

/** Escapes Redis glob characters, so that SCAN MATCH takes `text` literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

function isCluster(client: RedisClient | RedisCluster): client is RedisCluster {
  return typeof (client as RedisCluster).getMasters === "function";
}

/** `redis://host:port/db` of a URL without its credentials. */
function describeUrl(url: string): string {
  const parsed = new URL(url);
  const database = parsed.pathname.replace(/^\//, "") || "0";
  return `${parsed.protocol}//${parsed.hostname}:${parsed.port || "6379"}/${database}`;
}

/** The parts of a client's or a cluster's options that say where it connects. */
interface ConnectionOptions {
  url?: string;
  socket?: { host?: string; port?: number; tls?: boolean };
  database?: number;
  rootNodes?: ConnectionOptions[];
  defaults?: ConnectionOptions;
}

/** Where a caller's client or cluster connects, without credentials. */
function describeClient(client: RedisClient | RedisCluster): string {
  if (!isCluster(client)) return describeClientOptions((client as { options?: ConnectionOptions }).options);
  // A cluster has no public options getter in node-redis 5 and 6.
  const options = (client as unknown as { _options?: ConnectionOptions })._options;
  const nodes = (options?.rootNodes ?? []).map((node) => describeClientOptions({ ...options?.defaults, ...node }).replace(/\/\d+$/, ""));
  return `Redis Cluster ${nodes.join(", ")}`;
}

function describeClientOptions(options: ConnectionOptions | undefined): string {
  if (options?.url !== undefined) return describeUrl(options.url);
  const protocol = options?.socket?.tls === true ? "rediss" : "redis";
  return `${protocol}://${options?.socket?.host ?? "localhost"}:${options?.socket?.port ?? 6379}/${options?.database ?? 0}`;
}

/** Passwords a client's options hold, so that messages can never repeat them. */
function secretsOf(options: unknown): string[] {
  const secrets: string[] = [];
  const visit = (value: unknown) => {
    const record = value as { url?: unknown; password?: unknown; defaults?: unknown; rootNodes?: unknown } | undefined;
    if (record === undefined || record === null || typeof record !== "object") return;
    if (typeof record.password === "string") secrets.push(record.password);
    if (typeof record.url === "string") {
      try {
        const password = new URL(record.url).password;
        if (password !== "") secrets.push(decodeURIComponent(password), password);
      } catch {
        // An unparsable URL is reported by node-redis; nothing to collect from it.
      }
    }
    visit(record.defaults);
    if (Array.isArray(record.rootNodes)) record.rootNodes.forEach(visit);
  };
  visit(options);
  return secrets;
}

/**
 * An online store in Redis 7+, Valkey or Redis Cluster: each namespace is one hash,
 * `<prefix>:{<namespace>}`, field = key, value = value. Reads pipeline one HMGET per namespace
 * (one round trip; on a cluster one per shard, in parallel). A store that loses its server
 * rejects calls at once and reconnects by itself.
 */
export class RedisOnlineStore implements OnlineStore {
  readonly description: string;
  /** The key prefix: namespace `n` is the hash `<prefix>:{n}`. */
  readonly prefix: string;
  private readonly timeout: number;
  private readonly ownsClient: boolean;
  private readonly url: string | undefined;
  private readonly secrets: string[];
  private client: RedisClient | RedisCluster | undefined;
  /** Settles the wait of the call that started connecting, once an attempt has failed. */
  private attemptFailed: (() => void) | undefined;
  /** The wait every call shares while a connection is first being made. */
  private firstAttempt: Promise<void> | undefined;
  private lastError: unknown;
  private closed = false;

  constructor(options: RedisOnlineStoreOptions = {}) {
    this.prefix = options.prefix ?? "mlforge";
    this.timeout = options.timeout ?? 5000;
    if (typeof this.prefix !== "string" || this.prefix === "") {
      throw new StoreAccessError('RedisOnlineStore needs a non-empty key prefix, such as prefix: "mlforge".');
    }
    if (options.client !== undefined) {
      this.ownsClient = false;
      this.client = options.client;
      this.secrets = secretsOf(isCluster(options.client) ? (options.client as unknown as { _options?: unknown })._options : options.client.options);
      this.description = `RedisOnlineStore at ${describeClient(options.client)}`;
      return;
    }
    this.ownsClient = true;
    this.url = options.url ?? "redis://localhost:6379/0";
    this.secrets = secretsOf({ url: this.url });
    let described: string;
    try {
      described = describeUrl(this.url);
      if (!/^rediss?:$/.test(new URL(this.url).protocol)) throw new Error("not a redis URL");
    } catch {
      throw new StoreAccessError(
        `RedisOnlineStore URL '${redact(this.url, this.secrets)}' is not a Redis URL. Use redis://[[user]:password@]host[:port][/db], or rediss:// for TLS.`,
      );
    }
    this.description = `RedisOnlineStore at ${described}`;
  }

  /** A StoreAccessError for `error`, with nothing secret in its message or cause. */
  private accessError(action: string, error: unknown): StoreAccessError {
    const message = redact(errorMessage(error), this.secrets);
    const cause = redactedError(error, this.secrets);
    const name = errorName(error);
    if (AUTH_FAILURE.test(message)) {
      return new StoreAccessError(
        `${this.description}: the credentials were refused (${message}). Check the user name and password in the URL (redis://user:password@host:port/db) or in the client's options.`,
        { cause },
      );
    }
    if (name === "TimeoutError") {
      return new StoreAccessError(
        `${this.description} did not answer within ${this.timeout} ms while trying to ${action}. Check the server's load and the network, or raise the timeout option.`,
        { cause },
      );
    }
    if (UNREACHABLE.has(name) || /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN/.test(message)) {
      const last = this.lastError !== undefined && UNREACHABLE.has(name) ? redact(errorMessage(this.lastError), this.secrets) : message;
      return new StoreAccessError(
        `${this.description} cannot be reached, so it could not ${action} (${last}). Check that the server is running and that the address is right; the store reconnects by itself once it answers again.`,
        { cause },
      );
    }
    const hint = message.startsWith("WRONGTYPE")
      ? `Another program uses keys under '${this.prefix}:'; give this store a prefix of its own.`
      : message.startsWith("OOM")
        ? "Redis is out of memory: raise maxmemory, or remove old namespaces."
        : message.startsWith("NOPERM")
          ? `The Redis user lacks a permission: allow PING, SCAN, HMGET, HSET, HLEN and UNLINK on keys '${this.prefix}:*'.`
          : message.startsWith("READONLY")
            ? "The URL points at a read-only replica; point it at the primary."
            : "Check the server's log.";
    return new StoreAccessError(`${this.description} could not ${action} (${message}). ${hint}`, { cause });
  }

  private createOwnClient(): RedisClient {
    const client = createClient({
      url: this.url,
      // Commands sent while disconnected fail at once instead of piling up until the server is back.
      disableOfflineQueue: true,
      // No command timeout (node-redis 6 arms one of 5 s by default): it covers only the wait
      // before a command is written, not the reply, and costs an AbortSignal timer per command
      // that fires later even when the reply came; `withinTimeout` bounds each call instead.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.timeout,
        reconnectStrategy: (retries, cause) => {
          this.lastError = cause;
          this.attemptFailed?.();
          // Wrong credentials will not fix themselves by retrying; the next call starts a fresh client.
          if (AUTH_FAILURE.test(errorMessage(cause))) return false;
          return Math.min(50 * 2 ** retries, MAX_RECONNECT_DELAY_MS);
        },
      },
    });
    client.on("error", (error: unknown) => {
      this.lastError = error;
    });
    return client as RedisClient;
  }

  /** The connected client, connecting on first use; rejects at once while the server is away. */
  private async connection(action: string): Promise<RedisClient | RedisCluster> {
    if (this.closed) throw new StoreAccessError(`${this.description} is closed. Create a new RedisOnlineStore to use it again.`);
    if (this.client === undefined) this.client = this.createOwnClient();
    const client = this.client;
    if (client.isReady) return client;
    if (!client.isOpen && this.firstAttempt === undefined) {
      // Calls wait for the first attempt only (connected, refused, or `timeout` passed); later
      // calls fail at once while node-redis keeps reconnecting in the background.
      let settle: () => void = () => undefined;
      const attempt = new Promise<void>((resolve) => (settle = resolve));
      this.attemptFailed = settle;
      const timer = setTimeout(settle, this.timeout);
      (client.connect() as Promise<unknown>).then(settle, (error: unknown) => {
        this.lastError = error;
        if (this.ownsClient && this.client === client) this.client = undefined;
        settle();
      });
      this.firstAttempt = attempt.then(() => {
        clearTimeout(timer);
        this.attemptFailed = undefined;
        this.firstAttempt = undefined;
      });
    }
    if (this.firstAttempt !== undefined) await this.firstAttempt;
    if (client.isReady && !this.closed) return client;
    throw this.accessError(action, this.lastError ?? Object.assign(new Error("not connected"), { name: "ClientOfflineError" }));
  }

  private async commands(action: string): Promise<Commands> {
    const client = await this.connection(action);
    if (this.ownsClient) return client as unknown as Commands;
    // A caller's client may queue commands while disconnected: the command timeout takes them out
    // of its queue after `timeout` (the reply's wait is bounded by `withinTimeout`).
    return client.withCommandOptions({ timeout: this.timeout }) as unknown as Commands;
  }

  /**
   * `work`, or a rejection with a `TimeoutError` once `timeout` has passed without its replies:
   * a server that accepts commands but does not answer (busy, paused, a network that drops
   * packets) cannot hold a call longer. One timer per call, whatever the number of commands.
   */
  private async withinTimeout<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`no reply within ${this.timeout} ms`), { name: "TimeoutError" })), this.timeout);
    });
    // Replies that arrive after the timeout (or fail then) are dropped, not left unhandled.
    work.catch(() => undefined);
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A client per master: one for a single server, every shard's primary on a cluster. */
  private async masters(action: string): Promise<RedisClient[]> {
    const client = await this.connection(action);
    if (!isCluster(client)) return [client];
    return Promise.all(client.masters.map((master) => client.nodeClient(master) as Promise<RedisClient>));
  }

  /** The hash holding `namespace`; the braces make it a cluster hash tag. */
  private hashKey(namespace: string): string {
    if (typeof namespace !== "string" || namespace === "") {
      throw new TypeError(`Namespace ${JSON.stringify(namespace)} is not valid: use a non-empty name, such as "user_total_spend.v3".`);
    }
    return `${this.prefix}:{${namespace}}`;
  }

  async check(): Promise<void> {
    const masters = await this.masters("answer PING");
    try {
      await this.withinTimeout(Promise.all(masters.map((master) => master.withCommandOptions({ timeout: this.timeout }).ping())));
    } catch (error) {
      throw this.accessError("answer PING", error);
    }
  }

  async get(requests: readonly OnlineReadRequest[]): Promise<Array<Array<string | undefined>>> {
    const keys = requests.map((request) => this.hashKey(request.namespace));
    if (requests.every((request) => request.keys.length === 0)) return requests.map(() => []);
    const commands = await this.commands("read");
    try {
      // Every HMGET is sent in this same tick, so node-redis writes them as one pipeline.
      const pending = requests.map((request, index) => {
        const chunks: Array<Promise<Array<string | null>>> = [];
        for (let start = 0; start < request.keys.length; start += FIELDS_PER_COMMAND) {
          chunks.push(commands.hmGet(keys[index]!, request.keys.slice(start, start + FIELDS_PER_COMMAND) as string[]));
        }
        return chunks;
      });
      const replies = await this.withinTimeout(Promise.all(pending.map((chunks) => Promise.all(chunks))));
      return replies.map((chunks) => chunks.flat().map((value) => value ?? undefined));
    } catch (error) {
      throw this.accessError("read", error);
    }
  }

  async put(namespace: string, entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<void> {
    const key = this.hashKey(namespace);
    if (entries.length === 0) return;
    const commands = await this.commands(`write namespace '${namespace}'`);
    try {
      const wave: Array<Promise<number>> = [];
      for (let start = 0; start < entries.length; start += FIELDS_PER_COMMAND) {
        wave.push(commands.hSet(key, entries.slice(start, start + FIELDS_PER_COMMAND) as Array<[string, string]>));
        if (wave.length === COMMANDS_IN_FLIGHT) await this.withinTimeout(Promise.all(wave.splice(0)));
      }
      await this.withinTimeout(Promise.all(wave));
    } catch (error) {
      throw this.accessError(`write namespace '${namespace}'`, error);
    }
  }

  async deleteNamespace(namespace: string): Promise<void> {
    const key = this.hashKey(namespace);
    const commands = await this.commands(`delete namespace '${namespace}'`);
    try {
      // UNLINK frees a large hash in the background instead of blocking Redis.
      await this.withinTimeout(commands.unlink(key));
    } catch (error) {
      throw this.accessError(`delete namespace '${namespace}'`, error);
    }
  }

  async listNamespaces(prefix: string): Promise<string[]> {
    const start = `${this.prefix}:{`;
    const masters = await this.masters("list namespaces");
    const pattern = `${escapeGlob(start)}${escapeGlob(prefix)}*`;
    const names = new Set<string>();
    try {
      await Promise.all(
        masters.map(async (master) => {
          const scanner = master.withCommandOptions({ timeout: this.timeout }) as RedisClient;
          for await (const keys of scanner.scanIterator({ MATCH: pattern, COUNT: 1000, TYPE: "hash" })) {
            for (const key of keys as string[]) {
              if (key.startsWith(start) && key.endsWith("}")) names.add(key.slice(start.length, -1));
            }
          }
        }),
      );
    } catch (error) {
      throw this.accessError("list namespaces", error);
    }
    return [...names];
  }

  async count(namespace: string): Promise<number> {
    const key = this.hashKey(namespace);
    const commands = await this.commands(`count namespace '${namespace}'`);
    try {
      return await this.withinTimeout(commands.hLen(key));
    } catch (error) {
      throw this.accessError(`count namespace '${namespace}'`, error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    this.client = undefined;
    if (!this.ownsClient || client === undefined || !client.isOpen) return;
    if (client.isReady) await client.close().catch(() => client.destroy());
    else client.destroy();
  }
}
