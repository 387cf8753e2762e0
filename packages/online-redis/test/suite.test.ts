// RedisOnlineStore passes the online compliance suite unchanged, on one real redis-server and on a
// real 3-master Redis Cluster. Each test gets its own key prefix, so every store starts empty.
import { createCluster } from "redis";
import { onlineStoreTestSuite } from "@mlforge/online-test-suite";
import { RedisOnlineStore, type RedisCluster } from "@mlforge/online-redis";
import { startRedis, startRedisCluster, type TestRedisCluster, type TestRedisServer } from "@mlforge/redis-test-server";

let server: TestRedisServer;
let cluster: TestRedisCluster;
let clusterClient: RedisCluster;
let prefixes = 0;

function freshPrefix(): string {
  prefixes += 1;
  return `suite${prefixes}-${process.pid}`;
}

beforeAll(async () => {
  [server, cluster] = await Promise.all([startRedis(), startRedisCluster()]);
  clusterClient = createCluster({ rootNodes: cluster.rootNodes }) as unknown as RedisCluster;
  clusterClient.on("error", () => {});
  await clusterClient.connect();
}, 60_000);

afterAll(async () => {
  await clusterClient?.close();
  await Promise.all([server?.stop(), cluster?.stop()]);
});

describe("one redis-server", () => {
  onlineStoreTestSuite(test, () => new RedisOnlineStore({ url: server.url, prefix: freshPrefix() }));
});

describe("Redis Cluster, 3 masters", () => {
  onlineStoreTestSuite(test, () => new RedisOnlineStore({ client: clusterClient, prefix: freshPrefix() }));
});
