// RedisOnlineStore passes the online compliance suite unchanged, on one real redis-server and on a
// real 3-master Redis Cluster. Each test gets its own key prefix, so every store starts empty.
import { onlineStoreTestSuite } from "@mlforge/online-test-suite";
import { RedisOnlineStore } from "@mlforge/online-redis";
import { startRedisServers, type TestRedisServers } from "@mlforge/redis-test-server";

let redis: TestRedisServers;
let prefixes = 0;

function freshPrefix(): string {
  prefixes += 1;
  return `suite${prefixes}-${process.pid}`;
}

beforeAll(async () => {
  redis = await startRedisServers();
}, 60_000);

afterAll(async () => {
  await redis?.stop();
});

describe("one redis-server", () => {
  onlineStoreTestSuite(test, () => new RedisOnlineStore({ url: redis.server.url, prefix: freshPrefix() }));
});

describe("Redis Cluster, 3 masters", () => {
  onlineStoreTestSuite(test, () => new RedisOnlineStore({ client: redis.clusterClient, prefix: freshPrefix() }));
});
