import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { createCluster, type RedisClusterType } from "redis";

/** What to run when `redis-server` is missing; tests fail with it rather than being skipped. */
export const INSTALL_REDIS = "apt-get update && apt-get install -y redis-server";

/** A real `redis-server` on 127.0.0.1, started by `startRedis()`. */
export interface TestRedisServer {
  /** `redis://127.0.0.1:<port>` (with `:<password>@` when started with one). */
  url: string;
  port: number;
  /** Stops the server gracefully and removes its directory; safe to call twice. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL, as a crash would, keeping its port and directory for `restart()`. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (after `kill()` or `stop()`), empty since nothing is saved. */
  restart(): Promise<void>;
}

/** Options of `startRedis()`. */
export interface StartRedisOptions {
  /** Sets `requirepass`, and puts the password in `url`. */
  password?: string;
}

/** A real 3-master Redis Cluster on 127.0.0.1, started by `startRedisCluster()`. */
export interface TestRedisCluster {
  /** The masters, for `createCluster({ rootNodes })`. */
  rootNodes: Array<{ url: string }>;
  ports: number[];
  /** Stops every node and removes their directories. */
  stop(): Promise<void>;
}

function assertInstalled(program: "redis-server" | "redis-cli"): void {
  const found = spawnSync("sh", ["-c", `command -v ${program}`]).status === 0;
  if (!found) {
    throw new Error(`${program} is not installed, and mlforge's Redis tests need a real server. Install it with: ${INSTALL_REDIS}`);
  }
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Sends one inline command and resolves with the first reply line, or rejects on a connection error or a close before the reply. */
async function ask(port: number, command: string, password?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    let received = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("timeout")));
    socket.on("error", reject);
    // A server shutting down may accept and then close without a reply: without this, PING waited forever.
    socket.on("close", () => reject(new Error("closed before replying")));
    socket.on("data", (chunk) => {
      received += chunk.toString("utf8");
      const lines = received.split("\r\n");
      const expected = password === undefined ? 1 : 2;
      if (lines.length > expected) {
        socket.end();
        resolve(lines[expected - 1]!);
      }
    });
    socket.on("connect", () => {
      if (password !== undefined) socket.write(`AUTH ${password}\r\n`);
      socket.write(`${command}\r\n`);
    });
  });
}

async function waitForPong(port: number, process: ChildProcess, password?: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (process.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${process.exitCode}.`);
    const reply = await ask(port, "PING", password).catch(() => undefined);
    if (reply === "+PONG") return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s.`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function exited(process: ChildProcess): Promise<void> {
  if (process.exitCode !== null || process.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => process.once("exit", () => resolve()));
}

/** A running `redis-server` child: its process, restartable on the same port and directory. */
class RedisProcess {
  private child: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly directory: string,
    private readonly extraArguments: string[],
    private readonly password?: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(
      "redis-server",
      ["--port", String(this.port), "--bind", "127.0.0.1", "--dir", this.directory, "--save", "", "--appendonly", "no", ...this.extraArguments],
      { stdio: "ignore" },
    );
    child.on("error", () => {});
    this.child = child;
    try {
      await waitForPong(this.port, child, this.password);
    } catch (error) {
      // A server that never answered is not left running: it would keep the test process from exiting.
      await this.signal("SIGKILL");
      throw error;
    }
  }

  async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    this.child = undefined;
    child.kill(signal);
    await exited(child);
  }
}

/** Starts `redis-server` on a free 127.0.0.1 port in a temp directory, with nothing saved to disk, and waits for PONG. */
export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedisServer> {
  assertInstalled("redis-server");
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-redis-"));
  const port = await freePort();
  const extra = options.password === undefined ? [] : ["--requirepass", options.password];
  const server = new RedisProcess(port, directory, extra, options.password);
  try {
    await server.start();
  } catch (error) {
    await rm(directory, { recursive: true, force: true });
    throw error;
  }
  const credentials = options.password === undefined ? "" : `:${encodeURIComponent(options.password)}@`;
  return {
    url: `redis://${credentials}127.0.0.1:${port}`,
    port,
    async stop() {
      await server.signal("SIGTERM");
      await rm(directory, { recursive: true, force: true });
    },
    kill: () => server.signal("SIGKILL"),
    restart: () => server.start(),
  };
}

/** Starts three cluster-enabled `redis-server`s and joins them as a 3-master cluster (no replicas), waiting until it is ok. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  assertInstalled("redis-server");
  assertInstalled("redis-cli");
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-redis-cluster-"));
  const nodes: RedisProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.signal("SIGTERM")));
    await rm(directory, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < 3; index += 1) {
      const port = await freePort();
      const configFile = path.join(directory, `nodes-${port}.conf`);
      const node = new RedisProcess(port, directory, ["--cluster-enabled", "yes", "--cluster-config-file", configFile]);
      nodes.push(node);
      await node.start();
    }
    const ports = nodes.map((node) => node.port);
    const created = spawnSync(
      "redis-cli",
      ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-replicas", "0", "--cluster-yes"],
      { encoding: "utf8", timeout: 30_000 },
    );
    if (created.status !== 0) throw new Error(`redis-cli --cluster create failed: ${created.stdout}${created.stderr}`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (ports.every(clusterStateOk)) break;
      if (Date.now() > deadline) throw new Error("The Redis test cluster did not reach cluster_state:ok within 15 s.");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { rootNodes: ports.map((port) => ({ url: `redis://127.0.0.1:${port}` })), ports, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** True when the node at `port` reports `cluster_state:ok` (every slot covered and agreed on). */
function clusterStateOk(port: number): boolean {
  const result = spawnSync("redis-cli", ["-p", String(port), "cluster", "info"], { encoding: "utf8", timeout: 5000 });
  return result.status === 0 && result.stdout.includes("cluster_state:ok");
}

/** A redis-server and a 3-master Redis Cluster, started together by `startRedisServers()`, with a client of the cluster. */
export interface TestRedisServers {
  server: TestRedisServer;
  cluster: TestRedisCluster;
  /** A node-redis client of `cluster` (of any modules, as RedisOnlineStore's `client` option takes), connected; it ignores connection errors, which tests cause on purpose. */
  clusterClient: RedisClusterType<any, any, any, any, any>;
  /** Closes the client, then stops the server and the cluster; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts a redis-server and a 3-master cluster at once and connects a client to the cluster: for
 * tests that run against both. When any part fails, what did start is stopped before it rejects.
 */
export async function startRedisServers(): Promise<TestRedisServers> {
  const [server, cluster] = await Promise.allSettled([startRedis(), startRedisCluster()]);
  if (server.status === "rejected" || cluster.status === "rejected") {
    await Promise.all([server.status === "fulfilled" ? server.value.stop() : undefined, cluster.status === "fulfilled" ? cluster.value.stop() : undefined]);
    throw server.status === "rejected" ? server.reason : (cluster as PromiseRejectedResult).reason;
  }
  const clusterClient: TestRedisServers["clusterClient"] = createCluster({ rootNodes: cluster.value.rootNodes });
  clusterClient.on("error", () => {});
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (clusterClient.isOpen) await clusterClient.close().catch(() => clusterClient.destroy());
      await Promise.all([server.value.stop(), cluster.value.stop()]);
    })());
  try {
    await clusterClient.connect();
  } catch (error) {
    await stop();
    throw error;
  }
  return { server: server.value, cluster: cluster.value, clusterClient, stop };
}
