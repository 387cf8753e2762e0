// The OnlineStore contract as both stores' tests check it, until @mlforge/online-test-suite lands
// and replaces this file (online-redis imports it from here meanwhile).
import type { OnlineStore } from "@mlforge/core";

/** Registers contract tests for stores made by `createStore` (a fresh, empty store each call; the caller closes nothing). */
export function describeOnlineStoreContract(createStore: () => Promise<OnlineStore>): void {
  const stores: OnlineStore[] = [];
  async function fresh(): Promise<OnlineStore> {
    const store = await createStore();
    stores.push(store);
    return store;
  }

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  describe("OnlineStore contract", () => {
    test("check() passes on a fresh store", async () => {
      await (await fresh()).check();
    });

    test("values round-trip: unicode, empty strings, keys and values with separators and control characters", async () => {
      const store = await fresh();
      const entries: Array<[string, string]> = [
        ["user:1", "42"],
        ["", "the empty key"],
        ["empty value", ""],
        ["ünïcödé 🚀 ключ", "значение 🎉 値"],
        ["with\u0000nul\u0001and\nnewline", "v\u0000\u0001\r\n"],
        ["{braces}*?[glob]\\", "{}*?[]\\"],
      ];
      await store.put("ns.round_trip", entries);
      const [values] = await store.get([{ namespace: "ns.round_trip", keys: entries.map(([key]) => key) }]);
      expect(values).toEqual(entries.map(([, value]) => value));
    });

    test("a large value (8 MB) and a long key (10,000 characters) round-trip", async () => {
      const store = await fresh();
      const large = "αβγ".repeat(1_400_000);
      const longKey = "k".repeat(10_000);
      await store.put("large", [["big", large], [longKey, "long key"], [longKey.slice(1), "one shorter"]]);
      const [values] = await store.get([{ namespace: "large", keys: ["big", longKey, longKey.slice(1)] }]);
      expect(values![0]!.length).toBe(large.length);
      expect(values![0] === large).toBe(true);
      expect(values!.slice(1)).toEqual(["long key", "one shorter"]);
      expect(await store.count("large")).toBe(3);
    });

    test("missing keys and missing namespaces are undefined, in the requests' order", async () => {
      const store = await fresh();
      await store.put("present", [["a", "1"], ["c", "3"]]);
      const values = await store.get([
        { namespace: "present", keys: ["a", "b", "c", "a"] },
        { namespace: "absent", keys: ["a"] },
        { namespace: "present", keys: [] },
        { namespace: "present", keys: ["c"] },
      ]);
      expect(values).toEqual([["1", undefined, "3", "1"], [undefined], [], ["3"]]);
      expect(await store.get([])).toEqual([]);
    });

    test("put overwrites a key; an empty put is no error and creates no namespace", async () => {
      const store = await fresh();
      await store.put("overwrite", [["k", "old"], ["j", "kept"]]);
      await store.put("overwrite", [["k", "new"]]);
      await store.put("nothing", []);
      expect(await store.get([{ namespace: "overwrite", keys: ["k", "j"] }])).toEqual([["new", "kept"]]);
      expect(await store.count("overwrite")).toBe(2);
      expect(await store.listNamespaces("nothing")).toEqual([]);
    });

    test("5000 keys across 50 namespaces come back in one get", async () => {
      const store = await fresh();
      const namespaces = Array.from({ length: 50 }, (_, index) => `bulk.${index}`);
      await Promise.all(namespaces.map((namespace, index) =>
        store.put(namespace, Array.from({ length: 100 }, (_, key) => [`key${key}`, `${index}/${key}`] as const)),
      ));
      const requests = namespaces.map((namespace) => ({ namespace, keys: Array.from({ length: 100 }, (_, key) => `key${key}`) }));
      const values = await store.get(requests);
      expect(values).toEqual(namespaces.map((_, index) => Array.from({ length: 100 }, (_, key) => `${index}/${key}`)));
      expect(await Promise.all(namespaces.map((namespace) => store.count(namespace)))).toEqual(namespaces.map(() => 100));
    });

    test("many keys (30,000) in one put and one get", async () => {
      const store = await fresh();
      const entries = Array.from({ length: 30_000 }, (_, index) => [`entity-${index}`, `value-${index}`] as const);
      await store.put("many", entries);
      expect(await store.count("many")).toBe(30_000);
      const [values] = await store.get([{ namespace: "many", keys: entries.map(([key]) => key) }]);
      expect(values).toEqual(entries.map(([, value]) => value));
    });

    test("deleteNamespace removes every key of that namespace and nothing else; a missing one is no error", async () => {
      const store = await fresh();
      // Neighbours whose names extend or precede the deleted one, where a sloppy key range would reach.
      for (const namespace of ["feature", "feature.v1", "feature.v10", "feature_", "featur", "feature-"]) {
        await store.put(namespace, [["k1", namespace], ["k2", namespace]]);
      }
      await store.deleteNamespace("feature.v1");
      await store.deleteNamespace("never-written");
      expect(await store.count("feature.v1")).toBe(0);
      expect(await store.get([{ namespace: "feature.v1", keys: ["k1", "k2"] }])).toEqual([[undefined, undefined]]);
      expect((await store.listNamespaces("feat")).sort()).toEqual(["featur", "feature", "feature-", "feature.v10", "feature_"]);
      for (const namespace of ["feature", "feature.v10", "feature_", "featur", "feature-"]) {
        expect(await store.get([{ namespace, keys: ["k1", "k2"] }])).toEqual([[namespace, namespace]]);
      }
      await store.put("feature.v1", [["k3", "again"]]);
      expect(await store.count("feature.v1")).toBe(1);
    });

    test("listNamespaces returns exactly the non-empty namespaces starting with the prefix, glob characters taken literally", async () => {
      const store = await fresh();
      const names = ["users.v1", "users.v2", "users_archive", "orders.v1", "a*b", "a?b", "a[b]", "a\\b", "axb", "@scope/name"];
      for (const name of names) await store.put(name, [["k", "v"]]);
      expect((await store.listNamespaces("users.")).sort()).toEqual(["users.v1", "users.v2"]);
      expect((await store.listNamespaces("users")).sort()).toEqual(["users.v1", "users.v2", "users_archive"]);
      expect((await store.listNamespaces("")).sort()).toEqual([...names].sort());
      expect(await store.listNamespaces("a*")).toEqual(["a*b"]);
      expect(await store.listNamespaces("a?")).toEqual(["a?b"]);
      expect(await store.listNamespaces("a[")).toEqual(["a[b]"]);
      expect(await store.listNamespaces("a\\")).toEqual(["a\\b"]);
      expect(await store.listNamespaces("@scope/")).toEqual(["@scope/name"]);
      expect(await store.listNamespaces("nothing")).toEqual([]);
    });

    test("count is the number of distinct keys, 0 for a missing namespace", async () => {
      const store = await fresh();
      await store.put("counted", [["a", "1"], ["b", "2"]]);
      await store.put("counted", [["b", "3"], ["c", "4"]]);
      expect(await store.count("counted")).toBe(3);
      expect(await store.count("missing")).toBe(0);
    });

    test("close() can be called twice", async () => {
      const store = await createStore();
      await store.put("closing", [["k", "v"]]);
      await store.close();
      await store.close();
    });
  });
}
