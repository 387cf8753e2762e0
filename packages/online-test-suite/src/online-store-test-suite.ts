import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Definitions, feature, FeatureDefinitionError, FeatureNotBuiltError, StoreAccessError, type Feature, type FeatureOptions, type OnlineStore } from "@mlforge/core";
import { LocalStore } from "@mlforge/store-local";
import { wrapOnlineStore, type OnlineStoreMethod } from "./wrap-online-store";

/** The subset of Jest's (or Vitest's, or node:test's) `test` function that the suite needs. */
export type TestFunction = (name: string, body: () => Promise<void>) => unknown;

/** Makes a fresh, empty online store for each test. */
export type OnlineStoreFactory = () => OnlineStore | Promise<OnlineStore>;

/** A temporary project: a users CSV as the source and an offline LocalStore, removed afterwards. */
interface Project {
  directory: string;
  source: string;
  /** Rewrites the source CSV. */
  write(csv: string): Promise<void>;
  definitions(features: Feature[], onlineStore: OnlineStore): Definitions;
}

async function withProject(body: (project: Project) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(tmpdir(), "mlforge-online-suite-"));
  const source = path.join(directory, "users.csv");
  const offline = path.join(directory, "feature_store");
  try {
    await body({
      directory,
      source,
      write: (csv) => writeFile(source, csv),
      definitions: (features, onlineStore) => new Definitions({ name: "online-suite", features, offlineStore: new LocalStore(offline), onlineStore }),
    });
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function sqlFeature(options: Omit<FeatureOptions, "source"> & { name: string }, source: string, sql: string): Feature {
  return feature({ ...options, source }, (relation) => sql.replaceAll("$src", relation));
}

function usersCsv(count: number, value: number | string): string {
  return `user_id,v\n${Array.from({ length: count }, (_, index) => `${index + 1},${value}`).join("\n")}\n`;
}

/** Rows as plain data for assert.deepEqual across realms (Jest's sandbox): copied into this realm. */
function plain<T>(value: T): T {
  if (Array.isArray(value)) return value.map(plain) as T;
  if (value instanceof Date) return new Date(value.getTime()) as T;
  if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item)])) as T;
  return value;
}

const isDefinitionError = (pattern: RegExp) => (error: unknown) => error instanceof FeatureDefinitionError && pattern.test(error.message);

/**
 * The compliance suite every online store passes unchanged: call it inside a test file with
 * `onlineStoreTestSuite(test, () => new MyOnlineStore(...))`. Each test gets a fresh, empty store.
 */
export function onlineStoreTestSuite(test: TestFunction, createStore: OnlineStoreFactory): void {
  /** Runs `body` with a fresh store, closed afterwards. */
  const withStore = (body: (store: OnlineStore) => Promise<void>) => async () => {
    const store = await createStore();
    try {
      await body(store);
    } finally {
      await store.close();
    }
  };

  test(
    "contract: put, get (missing keys undefined, in request order), count, listNamespaces, deleteNamespace, unicode",
    withStore(async (store) => {
      await store.check();
      assert.deepEqual(plain(await store.get([{ namespace: "suite@a", keys: ["k"] }])), [[undefined]]);
      assert.equal(await store.count("suite@a"), 0);
      await store.put("suite@a", [
        ["k1", "v1"],
        ["ключ 🔑", 'значение "ü" \n 🌍'],
        ["", "empty key"],
      ]);
      await store.put("suite@b", [["k1", "other"]]);
      await store.put("suite@a", [["k1", "v1 replaced"]]);
      await store.put("other.ns", [["k1", "x"]]);
      assert.deepEqual(plain(await store.get([
        { namespace: "suite@a", keys: ["ключ 🔑", "missing", "k1", "", "k1"] },
        { namespace: "suite@b", keys: ["k1", "ключ 🔑"] },
        { namespace: "suite@none", keys: ["k1"] },
        { namespace: "suite@a", keys: [] },
      ])), [['значение "ü" \n 🌍', undefined, "v1 replaced", "empty key", "v1 replaced"], ["other", undefined], [undefined], []]);
      assert.equal(await store.count("suite@a"), 3);
      assert.deepEqual([...(await store.listNamespaces("suite@"))].sort(), ["suite@a", "suite@b"]);
      assert.deepEqual([...(await store.listNamespaces("nothing"))], []);
      await store.deleteNamespace("suite@a");
      await store.deleteNamespace("suite@never");
      assert.equal(await store.count("suite@a"), 0);
      assert.deepEqual(plain(await store.get([{ namespace: "suite@a", keys: ["k1"] }])), [[undefined]]);
      assert.deepEqual([...(await store.listNamespaces("suite@"))], ["suite@b"]);
      assert.equal(typeof store.description, "string");
    }),
  );

  test(
    "contract edge cases: control characters, an 8 MB value, a 10,000-character key, 30,000 keys, neighbouring namespaces, glob characters, an empty put",
    withStore(async (store) => {
      const odd: Array<[string, string]> = [
        ["with\u0000nul\u0001and\nnewline", "v\u0000\u0001\r\n"],
        ["{braces}*?[glob]\\", "{}*?[]\\"],
        ["empty value", ""],
      ];
      await store.put("edge.odd", odd);
      assert.deepEqual(plain(await store.get([{ namespace: "edge.odd", keys: odd.map(([key]) => key) }])), [odd.map(([, value]) => value)]);

      const large = "αβγ".repeat(1_400_000);
      const longKey = "k".repeat(10_000);
      await store.put("edge.large", [["big", large], [longKey, "long key"], [longKey.slice(1), "one shorter"]]);
      const [sized] = await store.get([{ namespace: "edge.large", keys: ["big", longKey, longKey.slice(1)] }]);
      assert.equal(sized![0] === large, true);
      assert.deepEqual(plain(sized!.slice(1)), ["long key", "one shorter"]);

      const many = Array.from({ length: 30_000 }, (_, index) => [`entity-${index}`, `value-${index}`] as const);
      await store.put("edge.many", many);
      assert.equal(await store.count("edge.many"), 30_000);
      const [values] = await store.get([{ namespace: "edge.many", keys: many.map(([key]) => key) }]);
      assert.deepEqual(plain(values), many.map(([, value]) => value));

      // Neighbours whose names extend or precede the deleted one, where a sloppy key range or pattern would reach.
      const neighbours = ["feature", "feature.v10", "feature_", "featur", "feature-"];
      for (const namespace of ["feature.v1", ...neighbours]) await store.put(namespace, [["k", namespace]]);
      await store.deleteNamespace("feature.v1");
      assert.equal(await store.count("feature.v1"), 0);
      assert.deepEqual([...(await store.listNamespaces("feat"))].sort(), [...neighbours].sort());
      for (const namespace of neighbours) assert.deepEqual(plain(await store.get([{ namespace, keys: ["k"] }])), [[namespace]]);

      // Glob characters in a prefix are taken literally.
      for (const name of ["a*b", "a?b", "a[b]", "a\\b", "axb", "@scope/name"]) await store.put(name, [["k", "v"]]);
      assert.deepEqual([...(await store.listNamespaces("a*"))], ["a*b"]);
      assert.deepEqual([...(await store.listNamespaces("a?"))], ["a?b"]);
      assert.deepEqual([...(await store.listNamespaces("a["))], ["a[b]"]);
      assert.deepEqual([...(await store.listNamespaces("a\\"))], ["a\\b"]);
      assert.deepEqual([...(await store.listNamespaces("@scope/"))], ["@scope/name"]);

      await store.put("edge.nothing", []);
      assert.deepEqual([...(await store.listNamespaces("edge.nothing"))], []);
      assert.deepEqual(plain(await store.get([])), []);
      // withStore closes it again afterwards: close() twice is no error.
      await store.close();
    }),
  );

  test(
    "every DuckDB type round-trips: online rows equal the offline read's latest row per key",
    withStore(async (store) => {
      await withProject(async (project) => {
        await project.write("user_id,n\n1,1\n1,2\n2,3\n3,4\n");
        const everything = sqlFeature(
          { name: "every_type", keys: ["user_id"], timestamp: "ts" },
          project.source,
          `SELECT user_id::INTEGER AS user_id, n::INTEGER AS int_col, (9007199254740993 + n)::BIGINT AS big, (n * 1.25)::DECIMAL(12,3) AS dec,
              n / 3 AS dbl, 'ünïcødé 🌍 "quoted" ' || n AS text, n % 2 = 0 AS flag, DATE '2025-01-01' + n::INTEGER AS day,
              TIMESTAMP '2025-01-01 00:00:00.123' + to_hours(n) AS ts, TIMESTAMPTZ '2025-01-01 00:00:00+02' + to_days(n) AS tstz,
              [n, NULL, n * 2] AS list, {'o': n, 'b': 'x', 'with space': [true], '$d': NULL} AS odd_struct,
              CASE WHEN n = 3 THEN NULL ELSE n END AS maybe FROM $src`,
        );
        const definitions = project.definitions([everything], store);
        await definitions.build({ online: true });
        const offline = await (await definitions.read("every_type")).rows();
        const latest = new Map<number, Record<string, unknown>>();
        for (const row of offline) {
          const held = latest.get(row.user_id as number);
          if (held === undefined || (held.ts as Date).getTime() < (row.ts as Date).getTime()) latest.set(row.user_id as number, row);
        }
        const online = await definitions.getOnlineFeatures({ features: ["every_type"], entities: [{ user_id: 1 }, { user_id: "2" }, { user_id: 3 }] });
        assert.deepEqual(plain(online), plain([latest.get(1), { ...latest.get(2), user_id: "2" }, latest.get(3)]));
        assert.equal(typeof online[0]!.big, "bigint");
        assert.equal(online[0]!.int_col, 2, "the latest row of user 1");
      });
    }),
  );

  test(
    "a sync switches atomically: readers never see a mix of builds, and entities gone from the new build are gone",
    withStore(async (store) => {
      await withProject(async (project) => {
        const columns = Array.from({ length: 5 }, (_, index) => `v AS c${index}`).join(", ");
        const wide = sqlFeature({ name: "wide", keys: ["user_id"] }, project.source, `SELECT user_id, ${columns} FROM $src`);
        const writer = project.definitions([wide], store);
        const reader = project.definitions([wide], store);
        await project.write(usersCsv(300, 1));
        await writer.build({ online: true });
        const entities = Array.from({ length: 300 }, (_, index) => ({ user_id: index + 1 }));
        const seen = new Set<string>();
        let stop = false;
        const reading = (async () => {
          while (!stop) {
            const rows = await reader.getOnlineFeatures({ features: ["wide"], entities });
            const values = new Set(rows.flatMap((row) => [row.c0, row.c1, row.c2, row.c3, row.c4]).filter((value) => value !== null));
            const held = rows.filter((row) => row.c0 !== null).length;
            assert.equal(values.size, 1, `one response holds values of one build, got ${[...values].join(", ")}`);
            const build = [...values][0];
            assert.equal(held, build === 1 ? 300 : 200, `build ${String(build)} holds ${build === 1 ? 300 : 200} entities, the response held ${held}`);
            assert.ok(rows.every((row) => [row.c1, row.c2, row.c3, row.c4].every((value) => value === row.c0)), "no entity mixes builds");
            seen.add(String(build));
            // A store answering from memory resolves in microtasks only: let the sync's I/O run.
            await new Promise((resolve) => setImmediate(resolve));
          }
        })();
        try {
          await project.write(usersCsv(200, 2));
          await writer.build({ force: true });
          await writer.syncOnline({ graceMs: 3_000 });
          // Long enough for the reader's cached pointer to be refreshed.
          await new Promise((resolve) => setTimeout(resolve, 1_500));
        } finally {
          stop = true;
          await reading;
        }
        assert.deepEqual([...seen].sort(), ["1", "2"], "the reader saw the first build, then the second");
        const after = await reader.getOnlineFeatures({ features: ["wide.c0"], entities: [{ user_id: 250 }, { user_id: 7 }] });
        assert.deepEqual(plain(after), [{ user_id: 250, c0: null }, { user_id: 7, c0: 2 }]);
      });
    }),
  );

  test(
    "with grace 0 the replaced build and a killed sync's namespace leave no keys behind",
    withStore(async (store) => {
      await withProject(async (project) => {
        const users = sqlFeature({ name: "users", keys: ["user_id"] }, project.source, "SELECT user_id, v FROM $src");
        const definitions = project.definitions([users], store);
        await project.write(usersCsv(20, 1));
        await definitions.build({ online: true });
        // A sync killed half way: a namespace older than the current one that never became current.
        const [current] = await store.get([{ namespace: "mlforge.pointers", keys: ["users"] }]);
        const currentNamespace = JSON.parse(current![0]!).namespace as string;
        await store.put("users@00000000T000000000Z-deadbeef", [["1", "[99]"]]);
        await project.write(usersCsv(10, 2));
        await definitions.build({ force: true });
        const result = await definitions.syncOnline({ graceMs: 0 });
        assert.deepEqual(result.synced.map((entry) => [entry.name, entry.rows]), [["users", 10]]);
        const namespaces = [...(await store.listNamespaces("users@"))];
        assert.equal(namespaces.length, 1, `one namespace of 'users' is left, found ${namespaces.join(", ")}`);
        assert.notEqual(namespaces[0], currentNamespace);
        assert.equal(await store.count(namespaces[0]!), 10);
        const rows = await definitions.getOnlineFeatures({ features: ["users"], entities: [{ user_id: 15 }, { user_id: 5 }] });
        assert.deepEqual(plain(rows), [{ user_id: 15, v: null }, { user_id: 5, v: 2 }]);
      });
    }),
  );

  test(
    "an unchanged build is skipped, force re-syncs it, and a feature never synced is FeatureNotBuiltError-family naming syncOnline",
    withStore(async (store) => {
      await withProject(async (project) => {
        await project.write(usersCsv(3, 7));
        const users = sqlFeature({ name: "users", keys: ["user_id"] }, project.source, "SELECT user_id, v FROM $src");
        const definitions = project.definitions([users], store);
        await definitions.build();
        await assert.rejects(definitions.getOnlineFeatures({ features: ["users"], entities: [{ user_id: 1 }] }), (error: unknown) => error instanceof FeatureNotBuiltError && /syncOnline/.test(error.message));
        const first = await definitions.syncOnline();
        assert.deepEqual(first.synced.map((entry) => entry.name), ["users"]);
        const buildId = first.synced[0]!.buildId;
        assert.equal(buildId, (await definitions.metadata("users"))!.buildId);
        const events: string[] = [];
        const second = await definitions.syncOnline({ onProgress: (event) => events.push(`${event.type}:${event.name}`) });
        assert.deepEqual(second.skipped.map((entry) => [entry.name, entry.buildId, entry.rows]), [["users", buildId, 3]]);
        assert.deepEqual(events, ["start:users", "end:users"]);
        const forced = await definitions.syncOnline({ force: true, graceMs: 0 });
        assert.deepEqual(forced.synced.map((entry) => [entry.name, entry.buildId, entry.rows]), [["users", buildId, 3]]);
        assert.deepEqual(plain(await definitions.getOnlineFeatures({ features: ["users"], entities: [{ user_id: 3 }] })), [{ user_id: 3, v: 7 }]);
      });
    }),
  );

  test(
    "TTL: a row whose event time is older than onlineTtl is served as nulls",
    withStore(async (store) => {
      await withProject(async (project) => {
        const recent = new Date(Date.now() - 3_600_000).toISOString();
        await project.write(`user_id,v,seen_at\n1,10,${recent}\n2,20,2000-01-01T00:00:00Z\n`);
        const fresh = sqlFeature({ name: "fresh", keys: ["user_id"], timestamp: "seen_at", onlineTtl: "1d" }, project.source, "SELECT user_id, v, seen_at::TIMESTAMP AS seen_at FROM $src");
        const definitions = project.definitions([fresh], store);
        await definitions.build({ online: true });
        const rows = await definitions.getOnlineFeatures({ features: ["fresh"], entities: [{ user_id: 1 }, { user_id: 2 }] });
        assert.equal(rows[0]!.v, 10);
        assert.deepEqual(plain(rows[1]), { user_id: 2, v: null, seen_at: null });
      });
    }),
  );

  test(
    "50 features x 100 entities come back in one store call, in order, duplicates kept",
    withStore(async (inner) => {
      const calls: OnlineStoreMethod[] = [];
      const store = wrapOnlineStore(inner, (method) => {
        calls.push(method);
      });
      await withProject(async (project) => {
        await project.write(usersCsv(100, 3));
        const features = Array.from({ length: 50 }, (_, index) =>
          feature({ name: `f${index}`, keys: ["user_id"], source: project.source }, (relation) => `SELECT user_id, v * ${index} AS value_${index} FROM ${relation}`),
        );
        const definitions = project.definitions(features, store);
        await definitions.build({ online: true });
        const entities = [...Array.from({ length: 100 }, (_, index) => ({ user_id: 100 - index })), { user_id: 1 }];
        const names = features.map((item) => item.name);
        await definitions.getOnlineFeatures({ features: names, entities });
        calls.length = 0;
        const rows = await definitions.getOnlineFeatures({ features: names, entities });
        assert.deepEqual(calls, ["get"], "one store call in steady state");
        assert.equal(rows.length, 101);
        assert.deepEqual(plain(rows[0]), { user_id: 100, ...Object.fromEntries(names.map((_, index) => [`value_${index}`, 3 * index])) });
        assert.deepEqual(plain(rows[100]), plain(rows[99]));
      });
    }),
  );

  test(
    "bad keys, unknown columns and clashing columns are rejected before any store call, naming the column and type",
    withStore(async (inner) => {
      let calls = 0;
      const store = wrapOnlineStore(inner, () => {
        calls++;
      });
      await withProject(async (project) => {
        await project.write(usersCsv(3, 1));
        const users = sqlFeature({ name: "users", keys: ["user_id"] }, project.source, "SELECT user_id::BIGINT AS user_id, v FROM $src");
        const again = sqlFeature({ name: "again", keys: ["user_id"] }, project.source, "SELECT user_id::BIGINT AS user_id, v FROM $src");
        const definitions = project.definitions([users, again], store);
        await definitions.build({ online: true });
        // Warm the pointer cache: key types come from the synced schema.
        await definitions.getOnlineFeatures({ features: ["users"], entities: [{ user_id: 1 }] });
        await definitions.getOnlineFeatures({ features: ["again"], entities: [{ user_id: 1 }] });
        calls = 0;
        const read = (entities: Array<Record<string, unknown>>, features = ["users"]) => definitions.getOnlineFeatures({ features, entities });
        for (const bad of ["abc", 1.5, true, { id: 1 }]) {
          await assert.rejects(read([{ user_id: 1 }, { user_id: bad }]), isDefinitionError(/Entity 1 has user_id = .*'user_id'.*BIGINT/));
        }
        await assert.rejects(read([{}]), isDefinitionError(/no 'user_id'/));
        await assert.rejects(read([{ user_id: 1, country: "DE" }]), isDefinitionError(/'country'.*key of none/));
        await assert.rejects(read([{ user_id: 1 }], ["users.nope"]), isDefinitionError(/no column 'nope'/));
        await assert.rejects(read([{ user_id: 1 }], ["users", "again"]), isDefinitionError(/Column 'v'.*Select columns/));
        await assert.rejects(read([{ user_id: 1 }], ["unknown_feature"]), /unknown_feature/);
        assert.equal(calls, 0, "no store call was made");
        assert.deepEqual(plain(await read([{ user_id: "2" }])), [{ user_id: "2", v: 1 }]);
      });
    }),
  );

  test(
    "a store that goes away fails reads with StoreAccessError, then serves again with no new Definitions",
    withStore(async (inner) => {
      let down = false;
      const store = wrapOnlineStore(inner, (method) => {
        if (down && method === "get") throw new StoreAccessError(`${inner.description} is unreachable (injected by the suite).`);
      });
      await withProject(async (project) => {
        await project.write(usersCsv(3, 5));
        const users = sqlFeature({ name: "users", keys: ["user_id"] }, project.source, "SELECT user_id, v FROM $src");
        const definitions = project.definitions([users], store);
        await definitions.build({ online: true });
        const read = () => definitions.getOnlineFeatures({ features: ["users"], entities: [{ user_id: 1 }] });
        assert.deepEqual(plain(await read()), [{ user_id: 1, v: 5 }]);
        down = true;
        await assert.rejects(read(), (error: unknown) => error instanceof StoreAccessError && /unreachable/.test(error.message));
        await assert.rejects(read(), StoreAccessError);
        down = false;
        assert.deepEqual(plain(await read()), [{ user_id: 1, v: 5 }]);
      });
    }),
  );
}
