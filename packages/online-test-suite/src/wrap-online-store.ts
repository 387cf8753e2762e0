import type { OnlineStore } from "@mlforge/core";

/** The methods of `OnlineStore` a wrapper intercepts. */
export type OnlineStoreMethod = "check" | "get" | "put" | "deleteNamespace" | "listNamespaces" | "count" | "close";

/**
 * A store that calls `before(method, args)` ahead of every call to `store` and then forwards it:
 * count calls, delay them, or throw from `before` to make the store fail (fault injection).
 */
export function wrapOnlineStore(store: OnlineStore, before: (method: OnlineStoreMethod, args: unknown[]) => void | Promise<void>): OnlineStore {
  const wrap =
    <M extends OnlineStoreMethod>(method: M) =>
    async (...args: unknown[]) => {
      await before(method, args);
      return (store[method] as (...forwarded: unknown[]) => unknown).apply(store, args);
    };
  return {
    get description() {
      return store.description;
    },
    check: wrap("check") as OnlineStore["check"],
    get: wrap("get") as OnlineStore["get"],
    put: wrap("put") as OnlineStore["put"],
    deleteNamespace: wrap("deleteNamespace") as OnlineStore["deleteNamespace"],
    listNamespaces: wrap("listNamespaces") as OnlineStore["listNamespaces"],
    count: wrap("count") as OnlineStore["count"],
    close: wrap("close") as OnlineStore["close"],
  };
}
