/**
 * `store` with some methods replaced, for fault injection: every other property and method is the
 * store's own (bound to it). `interceptStore(store, { putText: async () => { throw … } })`. Works for
 * any object (an offline or online store, a source provider).
 */
export function interceptStore<T extends object>(store: T, overrides: { [K in keyof T]?: T[K] }): T {
  return new Proxy(store, {
    get(object, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property as keyof T];
      const value = Reflect.get(object, property, object) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
}

/** The feature a current key belongs to: `user_total_spend.parquet` and `_metadata/user_total_spend.json` → `user_total_spend` (a kept version's key names no feature). */
export function featureOfKey(key: string): string {
  return key.replace(/^_metadata\//, "").replace(/\.(parquet|json)$/, "");
}
