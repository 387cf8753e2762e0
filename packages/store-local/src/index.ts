export { LocalStore } from "./local-store";
export type { LocalStoreOptions } from "./local-store";
