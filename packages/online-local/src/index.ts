export { LMDB_ENVIRONMENT_OPTIONS, LocalOnlineStore } from "./local-online-store";
export type { LocalOnlineStoreOptions } from "./local-online-store";
