export { LocalOnlineStore } from "./local-online-store";
export type { LocalOnlineStoreOptions } from "./local-online-store";
