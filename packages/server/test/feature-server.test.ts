// Every route and every error status through Fastify's inject(); real sockets are in sockets.test.ts.
import { createFeatureServer } from "@mlforge/server";
import type { FastifyInstance } from "fastify";
import { BIG_VALUE, createFixture, type Fixture } from "./support/fixture";

let fixture: Fixture;
let server: FastifyInstance;

beforeAll(async () => {
  fixture = await createFixture();
  server = createFeatureServer({ defs: fixture.open(), maxEntities: 50, bodyLimit: 4096 });
});

afterAll(async () => {
  await server.close();
  await fixture.remove();
});

function lookup(payload: unknown, target: FastifyInstance = server) {
  return target.inject({ method: "POST", url: "/features/online", payload: payload as Record<string, unknown> });
}

describe("POST /features/online", () => {
  test("returns rows as getOnlineFeatures gives them, with big integers as strings, ISO timestamps and per-feature metadata", async () => {
    const response = await lookup({ features: ["user_spend", "account_counter.counter"], entities: [{ user_id: "u01", account_id: 1 }, { user_id: "zz", account_id: "2" }] });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.rows).toEqual([
      { user_id: "u01", account_id: 1, total_spend: 86, transaction_count: 2, as_of: "2024-01-02T00:00:00.000Z", counter: BIG_VALUE },
      { user_id: "zz", account_id: "2", total_spend: null, transaction_count: null, as_of: null, counter: 42 },
    ]);
    const offline = await fixture.defs.metadata("user_spend");
    expect(body.metadata.user_spend).toEqual({ buildId: offline!.buildId, builtAt: offline!.builtAt, syncedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(Object.keys(body.metadata).sort()).toEqual(["account_counter", "user_spend"]);
  });

  test.each([
    ["features is a string, not coerced to a list", { features: "user_spend", entities: [{ user_id: "u01" }] }, "ValidationError", "features must be array"],
    ["features is missing", { entities: [{ user_id: "u01" }] }, "ValidationError", "features"],
    ["features is empty", { features: [], entities: [] }, "ValidationError", "features"],
    ["entities is an object", { features: ["user_spend"], entities: { user_id: "u01" } }, "ValidationError", "entities must be array"],
    ["an entity is an empty object", { features: ["user_spend"], entities: [{}] }, "ValidationError", "entities/0"],
    ["a key is a float", { features: ["account_counter"], entities: [{ account_id: 1.5 }] }, "ValidationError", "entities/0/account_id"],
    ["a key is a boolean", { features: ["account_counter"], entities: [{ account_id: true }] }, "ValidationError", "entities/0/account_id"],
    ["a key is an object", { features: ["account_counter"], entities: [{ account_id: { id: 1 } }] }, "ValidationError", "entities/0/account_id"],
    ["an INTEGER key is text", { features: ["account_counter"], entities: [{ account_id: "abc" }] }, "FeatureDefinitionError", "account_id"],
    ["a key column is missing", { features: ["user_spend"], entities: [{ account_id: 1 }] }, "FeatureDefinitionError", "account_id"],
    ["an unknown column", { features: ["user_spend.nope"], entities: [{ user_id: "u01" }] }, "FeatureDefinitionError", "has no column 'nope'"],
    ["an unknown top-level field", { features: ["user_spend"], entities: [], extra: 1 }, "ValidationError", "additional properties"],
  ])("400 when %s", async (_, payload, error, message) => {
    const response = await lookup(payload);
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe(error);
    expect(response.json().message).toContain(message);
  });

  test("404 for an unknown feature, naming the known ones", async () => {
    const response = await lookup({ features: ["nope"], entities: [{ user_id: "u01" }] });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: "FeatureNotFoundError", message: "Feature 'nope' is not defined. Available: user_spend, user_top_category, account_counter." });
  });

  test("400 for more than maxEntities entities; exactly maxEntities is fine", async () => {
    const entities = Array.from({ length: 51 }, (_, index) => ({ account_id: index }));
    const tooMany = await lookup({ features: ["account_counter"], entities });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json()).toEqual({ error: "TooManyEntitiesError", message: expect.stringContaining("at most 50 entities") });
    expect((await lookup({ features: ["account_counter"], entities: entities.slice(0, 50) })).statusCode).toBe(200);
  });

  test("400 for malformed JSON, 413 for a body over the limit, 415 for a body that is not JSON", async () => {
    const malformed = await server.inject({ method: "POST", url: "/features/online", headers: { "content-type": "application/json" }, payload: '{"features": [' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error).toBe("InvalidJsonError");
    const large = await lookup({ features: ["account_counter"], entities: [{ account_id: "1".repeat(5000) }] });
    expect(large.statusCode).toBe(413);
    expect(large.json().error).toBe("BodyTooLargeError");
    const text = await server.inject({ method: "POST", url: "/features/online", headers: { "content-type": "application/xml" }, payload: "<features/>" });
    expect(text.statusCode).toBe(415);
    const plain = await server.inject({ method: "POST", url: "/features/online", headers: { "content-type": "text/plain" }, payload: "hello" });
    expect(plain.statusCode).toBe(400);
    for (const response of [malformed, large, text]) expect(response.body).not.toMatch(/\/work\/|node_modules|\n\s+at /);
  });

  test("404 naming syncOnline for a feature that was never synced", async () => {
    const unsynced = await createFixture({ sync: false });
    const other = createFeatureServer({ defs: unsynced.open() });
    try {
      const response = await lookup({ features: ["user_spend"], entities: [{ user_id: "u01" }] }, other);
      expect(response.statusCode).toBe(404);
      expect(response.json().error).toBe("FeatureNotSyncedError");
      expect(response.json().message).toContain("syncOnline");
    } finally {
      await other.close();
      await unsynced.remove();
    }
  });
});

describe("catalog routes", () => {
  test("GET /features lists every feature with keys, columns, offline and online builds", async () => {
    const response = await server.inject({ url: "/features" });
    expect(response.statusCode).toBe(200);
    const { definitions, features } = response.json();
    expect(definitions).toBe("server-test");
    expect(features.map((item: { name: string }) => item.name)).toEqual(["user_spend", "user_top_category", "account_counter"]);
    const spend = features[0];
    expect(spend).toMatchObject({ keys: ["user_id"], timestamp: "as_of", tags: ["user", "spend"], source: "transactions.csv", offline: { rows: 40 }, online: { state: "synced", rows: 40 } });
    expect(spend.columns).toEqual([
      { name: "user_id", type: "VARCHAR" },
      { name: "total_spend", type: "DOUBLE" },
      { name: "transaction_count", type: "BIGINT" },
      { name: "as_of", type: "TIMESTAMP" },
    ]);
    expect(spend.online.buildId).toBe(spend.offline.buildId);
  });

  test("GET /features/:name adds the transform's SQL; unknown names are a 404 listing the known ones", async () => {
    const response = await server.inject({ url: "/features/user_spend" });
    expect(response.statusCode).toBe(200);
    expect(response.json().sql).toContain("max(day)::TIMESTAMP AS as_of FROM source GROUP BY user_id");
    const missing = await server.inject({ url: "/features/nope" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().message).toContain("Available: user_spend, user_top_category, account_counter");
  });

  test("GET /features/:name/stats computes per-column statistics with DuckDB, cached per build", async () => {
    const response = await server.inject({ url: "/features/user_spend/stats" });
    expect(response.statusCode).toBe(200);
    const stats = response.json();
    expect(stats.rows).toBe(40);
    const byName = Object.fromEntries(stats.columns.map((column: { name: string }) => [column.name, column]));
    expect(byName.user_id).toMatchObject({ nullCount: 0, distinctCount: 40, min: "u01", max: "u40" });
    expect(byName.user_id.topValues).toHaveLength(10);
    expect(byName.transaction_count).toMatchObject({ min: 1, max: 5, distinctCount: 5 });
    const bins = byName.total_spend.histogram as Array<{ count: number }>;
    expect(bins).toHaveLength(20);
    expect(bins.reduce((sum, bin) => sum + bin.count, 0)).toBe(40);
    const big = (await server.inject({ url: "/features/account_counter/stats" })).json();
    expect(big.columns[1]).toMatchObject({ name: "counter", min: 7, max: BIG_VALUE });
  });
});

describe("operations", () => {
  test("GET /health and GET /ready are 200 while the online store answers", async () => {
    expect((await server.inject({ url: "/health" })).json()).toEqual({ status: "ok" });
    expect((await server.inject({ url: "/ready" })).statusCode).toBe(200);
  });

  test("GET /metrics counts requests per route template and records online store latency and errors", async () => {
    await server.inject({ url: "/features/nope" });
    const text = (await server.inject({ url: "/metrics" })).body;
    expect(text).toMatch(/mlforge_http_requests_total\{method="GET",route="\/features\/:name",status="404"\} \d+/);
    expect(text).toContain('mlforge_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/features/online"}');
    expect(text).toMatch(/mlforge_online_store_duration_seconds_count\{operation="read",outcome="ok"\} \d+/);
    expect(text).toMatch(/mlforge_http_errors_total\{route="\/features\/:name",error="FeatureNotFoundError"\} \d+/);
  });

  test("GET /openapi.json describes every route from the schemas; GET /docs serves its page and assets locally", async () => {
    const document = (await server.inject({ url: "/openapi.json" })).json();
    expect(Object.keys(document.paths).sort()).toEqual(["/features", "/features/online", "/features/{name}", "/features/{name}/stats", "/health", "/metrics", "/ready"]);
    expect(document.paths["/features/online"].post.requestBody.content["application/json"].schema.properties.entities.maxItems).toBe(50);
    const docs = await server.inject({ url: "/docs/" });
    expect(docs.statusCode).toBe(200);
    expect(docs.body).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)[a-z]/i);
    const bundle = await server.inject({ url: "/docs/static/swagger-ui-bundle.js" });
    expect(bundle.statusCode).toBe(200);
  });

  test("the catalog page and its assets are served by the server, with no other host", async () => {
    const page = await server.inject({ url: "/" });
    expect(page.headers["content-type"]).toContain("text/html");
    for (const url of ["/", "/catalog.css", "/catalog.js"]) {
      const response = await server.inject({ url });
      expect(response.statusCode).toBe(200);
      // The SVG namespace is a name, not a request.
      expect(response.body.replaceAll("http://www.w3.org/2000/svg", "")).not.toMatch(/https?:\/\//);
    }
  });

  test("an unknown route is a JSON 404", async () => {
    const response = await server.inject({ url: "/nothing/here" });
    expect(response.statusCode).toBe(404);
    expect(response.json().error).toBe("RouteNotFoundError");
  });
});

describe("with a token", () => {
  let secured: FastifyInstance;
  const token = "tok-3f9a8c1e";

  beforeAll(() => {
    secured = createFeatureServer({ defs: fixture.open(), token });
  });
  afterAll(async () => {
    await secured.close();
  });

  test.each(["/features", "/features/user_spend", "/features/user_spend/stats", "/ready", "/metrics", "/nothing"])("GET %s is 401 without the token and with a wrong one", async (url) => {
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: token }, { authorization: `Basic ${token}` }]) {
      const response = await secured.inject({ url, headers });
      expect(response.statusCode).toBe(401);
      expect(response.json().error).toBe("UnauthorizedError");
      expect(response.body).not.toContain(token);
    }
    expect((await secured.inject({ url, headers: { authorization: `Bearer ${token}` } })).statusCode).not.toBe(401);
  });

  test("POST /features/online needs the token; /health, the page and its assets do not", async () => {
    const payload = { features: ["user_spend"], entities: [{ user_id: "u01" }] };
    expect((await secured.inject({ method: "POST", url: "/features/online", payload })).statusCode).toBe(401);
    expect((await secured.inject({ method: "POST", url: "/features/online", payload, headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);
    for (const url of ["/health", "/", "/catalog.js", "/catalog.css"]) expect((await secured.inject({ url })).statusCode).toBe(200);
  });

  test("the token never appears in /metrics", async () => {
    const text = (await secured.inject({ url: "/metrics", headers: { authorization: `Bearer ${token}` } })).body;
    expect(text).toContain("mlforge_http_requests_total");
    expect(text).not.toContain(token);
  });
});

describe("without an online store (mlforge ui)", () => {
  test("the catalog works; online lookups are a 503 saying how to get them", async () => {
    const offline = createFeatureServer({ defs: fixture.open(false), online: false });
    try {
      const listing = (await offline.inject({ url: "/features" })).json();
      expect(listing.features[0].online).toEqual({ state: "disabled" });
      expect((await offline.inject({ url: "/ready" })).statusCode).toBe(200);
      const response = await offline.inject({ method: "POST", url: "/features/online", payload: { features: ["user_spend"], entities: [{ user_id: "u01" }] } });
      expect(response.statusCode).toBe(503);
      expect(response.json().error).toBe("OnlineStoreNotConfiguredError");
    } finally {
      await offline.close();
    }
  });
});
