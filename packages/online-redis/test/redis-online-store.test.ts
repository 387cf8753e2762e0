import { createServer, connect, type Server, type Socket } from "node:net";
import { inspect } from "node:util";
import { createClient } from "redis";
import { StoreAccessError } from "@mlforge/core";
import { RedisOnlineStore, type RedisClient, type RedisCluster } from "@mlforge/online-redis";
import { freePort, startRedis, startRedisServers, type TestRedisCluster, type TestRedisServer, type TestRedisServers } from "@mlforge/redis-test-server";
import { eventually, rejection } from "@mlforge/test-support";

let redis: TestRedisServers;
let server: TestRedisServer;
let cluster: TestRedisCluster;
let clusterClient: RedisCluster;
let prefixes = 0;

/** A key prefix no other test uses, so that every store starts empty on the shared servers. */
function freshPrefix(): string {
  prefixes += 1;
  return `test${prefixes}-${process.pid}`;
}

beforeAll(async () => {
  redis = await startRedisServers();
  ({ server, cluster, clusterClient } = redis);
});

afterAll(async () => {
  await redis?.stop();
});

describe("RedisOnlineStore specifics", () => {
  test("description names the server and database, never the password", () => {
    expect(new RedisOnlineStore({ url: "redis://:hunter2@cache.internal:6380/2" }).description).toBe("RedisOnlineStore at redis://cache.internal:6380/2");
    expect(new RedisOnlineStore({ url: "rediss://user:pa%40ss@cache" }).description).toBe("RedisOnlineStore at rediss://cache:6379/0");
    expect(new RedisOnlineStore().description).toBe("RedisOnlineStore at redis://localhost:6379/0");
    expect(new RedisOnlineStore({ client: clusterClient }).description).toBe(
      `RedisOnlineStore at Redis Cluster ${cluster.ports.map((port) => `redis://127.0.0.1:${port}`).join(", ")}`,
    );
    expect(() => new RedisOnlineStore({ url: "http://:hunter2@cache:6379" })).toThrow(
      "RedisOnlineStore URL 'http://cache:6379' is not a Redis URL. Use redis://[[user]:password@]host[:port][/db], or rediss:// for TLS.",
    );
  });

  test("layout: one hash per namespace at <prefix>:{<namespace>}, field = key, value = value", async () => {
    const prefix = freshPrefix();
    const store = new RedisOnlineStore({ url: server.url, prefix });
    await store.put("user_spend.v1", [["user:1", "10"], ["user:2", "20"]]);
    const plain = createClient({ url: server.url });
    await plain.connect();
    try {
      expect(await plain.type(`${prefix}:{user_spend.v1}`)).toBe("hash");
      expect(await plain.hGetAll(`${prefix}:{user_spend.v1}`)).toEqual({ "user:1": "10", "user:2": "20" });
      // Keys of other programs under the same prefix are not namespaces.
      await plain.set(`${prefix}:{not-a-hash}`, "x");
      await plain.hSet(`${prefix}:unbraced`, "k", "v");
      expect(await store.listNamespaces("")).toEqual(["user_spend.v1"]);
      await store.deleteNamespace("user_spend.v1");
      expect(await plain.exists(`${prefix}:{user_spend.v1}`)).toBe(0);
    } finally {
      await plain.close();
      await store.close();
    }
  });

  test("on a cluster, namespaces spread over every shard and one get reads across them", async () => {
    const prefix = freshPrefix();
    const store = new RedisOnlineStore({ client: clusterClient, prefix });
    const namespaces = Array.from({ length: 30 }, (_, index) => `spread.${index}`);
    for (const namespace of namespaces) await store.put(namespace, [["k", namespace]]);
    const shards = new Set<number>();
    for (const namespace of namespaces) {
      const slot = Number(await clusterClient.sendCommand(undefined, true, ["CLUSTER", "KEYSLOT", `${prefix}:{${namespace}}`]));
      shards.add(clusterClient.getSlotMaster(slot).port);
    }
    expect(shards.size).toBe(3);
    expect(await store.get(namespaces.map((namespace) => ({ namespace, keys: ["k", "missing"] })))).toEqual(
      namespaces.map((namespace) => [namespace, undefined]),
    );
    expect((await store.listNamespaces("spread.")).sort()).toEqual([...namespaces].sort());
    await store.close();
    // The cluster belongs to the caller: the store leaves it open.
    expect(clusterClient.isOpen).toBe(true);
  });

  test("a caller's client is connected when needed and not closed by close()", async () => {
    const client = createClient({ url: server.url }) as unknown as RedisClient;
    client.on("error", () => {});
    const store = new RedisOnlineStore({ client, prefix: freshPrefix() });
    await store.put("n", [["k", "v"]]);
    await store.close();
    expect(client.isReady).toBe(true);
    await client.close();
  });

  test("a server killed: calls reject with StoreAccessError at once; restarted on its port, the same store works again", async () => {
    const own = await startRedis();
    const store = new RedisOnlineStore({ url: own.url, prefix: freshPrefix() });
    try {
      await store.put("n", [["k", "before"]]);
      await own.kill();
      for (const call of [
        () => store.get([{ namespace: "n", keys: ["k"] }]),
        () => store.put("n", [["k", "during"]]),
        () => store.count("n"),
        () => store.listNamespaces(""),
        () => store.check(),
      ]) {
        const { error, ms } = await rejection(call());
        expect(error).toBeInstanceOf(StoreAccessError);
        expect(error.message).toMatch(/^RedisOnlineStore at redis:\/\/127\.0\.0\.1:\d+\/0 cannot be reached, so it could not .+ \(.+\)\. Check that the server is running/);
        expect(ms).toBeLessThan(1000);
      }
      await own.restart();
      // Nothing is saved, so the restarted server is empty: the store writes and reads again.
      await eventually(() => store.put("n", [["k", "after"]]), 10_000);
      expect(await store.get([{ namespace: "n", keys: ["k"] }])).toEqual([["after"]]);
    } finally {
      await store.close();
      await own.stop();
    }
  });

  test("a server that is not running: the first call rejects within the timeout, later ones at once", async () => {
    const port = await freePort();
    const store = new RedisOnlineStore({ url: `redis://127.0.0.1:${port}`, timeout: 2000 });
    const first = await rejection(store.check());
    expect(first.error).toBeInstanceOf(StoreAccessError);
    expect(first.error.message).toContain("ECONNREFUSED");
    expect(first.ms).toBeLessThan(2500);
    const second = await rejection(store.get([{ namespace: "n", keys: ["k"] }]));
    expect(second.error).toBeInstanceOf(StoreAccessError);
    expect(second.ms).toBeLessThan(500);
    await store.close();
    await store.close();
  });

  test("a server that takes commands but does not answer (CLIENT PAUSE): reads, writes and counts reject within the timeout, then work again", async () => {
    const store = new RedisOnlineStore({ url: server.url, prefix: freshPrefix(), timeout: 500 });
    const admin = createClient({ url: server.url });
    await admin.connect();
    try {
      await store.put("n", [["k", "v"]]);
      // Redis holds every other client's commands, unanswered, for 3 s.
      await admin.sendCommand(["CLIENT", "PAUSE", "3000", "ALL"]);
      for (const call of [() => store.get([{ namespace: "n", keys: ["k"] }]), () => store.put("n", [["k", "w"]]), () => store.count("n")]) {
        const { error, ms } = await rejection(call());
        expect(error).toBeInstanceOf(StoreAccessError);
        expect(error.message).toMatch(/^RedisOnlineStore at redis:\/\/127\.0\.0\.1:\d+\/0 did not answer within 500 ms while trying to (read|write namespace 'n'|count namespace 'n')\. /);
        expect(ms).toBeGreaterThanOrEqual(450);
        expect(ms).toBeLessThan(1500);
      }
      await admin.sendCommand(["CLIENT", "UNPAUSE"]);
      // The write sent during the pause was applied once Redis answered again.
      expect(await eventually(async () => store.get([{ namespace: "n", keys: ["k"] }]), 2000)).toEqual([["w"]]);
    } finally {
      await admin.close();
      await store.close();
    }
  });

  test("a password is never shown: not in description, message, String(error), causes or util.inspect; a wrong one is 'credentials were refused'", async () => {
    const password = "s3cret-Pa55:word";
    const guarded = await startRedis({ password });
    const errors: Error[] = [];
    const stores: RedisOnlineStore[] = [];
    try {
      const wrong = new RedisOnlineStore({ url: `redis://:${encodeURIComponent(`${password}-wrong`)}@127.0.0.1:${guarded.port}/0` });
      const right = new RedisOnlineStore({ url: guarded.url, prefix: freshPrefix() });
      const missing = new RedisOnlineStore({ url: `redis://127.0.0.1:${guarded.port}` });
      stores.push(wrong, right, missing);

      const refused = await rejection(wrong.check());
      expect(refused.error).toBeInstanceOf(StoreAccessError);
      expect(refused.error.message).toMatch(/^RedisOnlineStore at redis:\/\/127\.0\.0\.1:\d+\/0: the credentials were refused \(WRONGPASS/);
      expect(refused.ms).toBeLessThan(2000);
      errors.push(refused.error, (await rejection(wrong.get([{ namespace: "n", keys: ["k"] }]))).error);

      const noAuth = (await rejection(missing.count("n"))).error;
      expect(noAuth.message).toContain("the credentials were refused (NOAUTH");
      errors.push(noAuth);

      await right.put("n", [["k", "v"]]);
      expect(await right.get([{ namespace: "n", keys: ["k"] }])).toEqual([["v"]]);
      await guarded.kill();
      errors.push((await rejection(right.get([{ namespace: "n", keys: ["k"] }]))).error);
      errors.push((await rejection(right.put("n", [["k", "w"]]))).error);
      const fresh = new RedisOnlineStore({ url: `redis://:${password}@127.0.0.1:${guarded.port}`, timeout: 500 });
      stores.push(fresh);
      errors.push((await rejection(fresh.check())).error);

      for (const store of stores) expect(store.description).not.toContain(password);
      for (const error of errors) {
        expect(error).toBeInstanceOf(StoreAccessError);
        const shown = [error.message, String(error), error.stack ?? "", inspect(error, { depth: 10 })];
        for (let cause: unknown = error.cause; cause !== undefined; cause = (cause as Error).cause) shown.push(inspect(cause, { depth: 10 }));
        for (const text of shown) {
          expect(text).not.toContain(password);
          expect(text).not.toContain(encodeURIComponent(password));
          expect(text).not.toContain("s3cret");
        }
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await guarded.stop();
    }
  });

  test("a get over 50 namespaces takes one round trip: pipelined through a proxy that delays every exchange by 150 ms", async () => {
    const proxy = await delayingProxy(server.port, 150);
    const prefix = freshPrefix();
    const direct = new RedisOnlineStore({ url: server.url, prefix });
    const store = new RedisOnlineStore({ url: `redis://127.0.0.1:${proxy.port}`, prefix });
    try {
      const namespaces = Array.from({ length: 50 }, (_, index) => `pipelined.${index}`);
      await Promise.all(namespaces.map((namespace) => direct.put(namespace, [["k", namespace]])));
      await store.check();
      const started = Date.now();
      const values = await store.get(namespaces.map((namespace) => ({ namespace, keys: ["k"] })));
      const elapsed = Date.now() - started;
      expect(values).toEqual(namespaces.map((namespace) => [namespace]));
      // Sequential HMGETs would take 50 × 150 ms; pipelined ones arrive in one or two bursts.
      expect(elapsed).toBeLessThan(600);
    } finally {
      await Promise.all([store.close(), direct.close()]);
      await proxy.close();
    }
  });
});

/** A TCP proxy to 127.0.0.1:`target` holding every chunk the client sends for `delayMs` before forwarding it. */
async function delayingProxy(target: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((incoming) => {
    const outgoing = connect({ host: "127.0.0.1", port: target });
    sockets.add(incoming).add(outgoing);
    incoming.on("data", (chunk) => setTimeout(() => outgoing.write(chunk), delayMs));
    outgoing.on("data", (chunk) => incoming.write(chunk));
    const end = () => {
      incoming.destroy();
      outgoing.destroy();
    };
    incoming.on("close", end).on("error", end);
    outgoing.on("close", end).on("error", end);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));
  return {
    port,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        proxy.close(() => resolve());
      }),
  };
}
