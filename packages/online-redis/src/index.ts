export { RedisOnlineStore } from "./redis-online-store";
export type { RedisClient, RedisCluster, RedisOnlineStoreOptions } from "./redis-online-store";
