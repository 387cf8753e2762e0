// RedisOnlineStore under the online crash suite: syncs in child processes killed with SIGKILL at
// seeded random points while this process reads, and two syncs of one feature at once. Each test
// gets a redis-server of its own, so that DBSIZE and SCAN see every key there is.
// MLFORGE_CRASH_SEED replays another sequence of kill points.
import { createClient } from "redis";
import { RedisOnlineStore, type RedisOnlineStoreOptions } from "@mlforge/online-redis";
import { onlineCrashTestSuite, type OnlineStoreDescription } from "@mlforge/online-test-suite";
import { startRedis, type TestRedisServer } from "@mlforge/redis-test-server";

const servers: TestRedisServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

const storeOptions = (description: OnlineStoreDescription) => description.options as Required<Pick<RedisOnlineStoreOptions, "url" | "prefix">>;

// A slow tier: with MLFORGE_SLOW_TESTS=0 (.ci/run's second Node version) Jest reports its tests as skipped.
const slowTiers = process.env.MLFORGE_SLOW_TESTS !== "0";

onlineCrashTestSuite(slowTiers ? test : test.skip, {
  seed: Number(process.env.MLFORGE_CRASH_SEED ?? 11),
  async describeStore() {
    const server = await startRedis();
    servers.push(server);
    return { module: "@mlforge/online-redis", export: "RedisOnlineStore", options: { url: server.url, prefix: "crash" } };
  },
  openStore: (description) => new RedisOnlineStore(storeOptions(description)),
  // Every key of the server through a plain client: each must be a namespace hash `<prefix>:{<namespace>}`.
  async backendNamespaces(description) {
    const { url, prefix } = storeOptions(description);
    const client = createClient({ url });
    await client.connect();
    try {
      const counts: Record<string, number> = {};
      let scanned = 0;
      for await (const keys of client.scanIterator({ MATCH: "*", COUNT: 1000 })) {
        for (const key of keys) {
          scanned += 1;
          const namespace = new RegExp(`^${prefix}:\\{(.+)\\}$`).exec(key)?.[1];
          expect({ key, type: await client.type(key), namespace: namespace !== undefined }).toEqual({ key, type: "hash", namespace: true });
          counts[namespace!] = await client.hLen(key);
        }
      }
      expect(await client.dbSize()).toBe(scanned);
      return counts;
    } finally {
      await client.close();
    }
  },
});
