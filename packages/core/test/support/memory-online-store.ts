import type { OnlineReadRequest, OnlineStore } from "../../src/online-store";

/**
 * A TEST DOUBLE of the OnlineStore contract for core's unit tests: maps in memory, nothing
 * persisted, no concurrency between processes. Not a store; the real ones are
 * `@mlforge/online-local` and `@mlforge/online-redis`.
 */
export class MemoryOnlineStoreDouble implements OnlineStore {
  readonly description = "MemoryOnlineStoreDouble (test double)";
  readonly namespaces = new Map<string, Map<string, string>>();
  /** Every call, in order, by method name. */
  readonly calls: string[] = [];

  async check(): Promise<void> {
    this.calls.push("check");
  }

  async get(requests: readonly OnlineReadRequest[]): Promise<Array<Array<string | undefined>>> {
    this.calls.push("get");
    return requests.map((request) => request.keys.map((key) => this.namespaces.get(request.namespace)?.get(key)));
  }

  async put(namespace: string, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
    this.calls.push("put");
    if (entries.length === 0) return;
    const map = this.namespaces.get(namespace) ?? new Map<string, string>();
    for (const [key, value] of entries) map.set(key, value);
    this.namespaces.set(namespace, map);
  }

  async deleteNamespace(namespace: string): Promise<void> {
    this.calls.push("deleteNamespace");
    this.namespaces.delete(namespace);
  }

  async listNamespaces(prefix: string): Promise<string[]> {
    this.calls.push("listNamespaces");
    return [...this.namespaces.keys()].filter((name) => name.startsWith(prefix));
  }

  async count(namespace: string): Promise<number> {
    this.calls.push("count");
    return this.namespaces.get(namespace)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.calls.push("close");
  }
}
