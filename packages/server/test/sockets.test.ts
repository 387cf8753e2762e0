// The main flows over real sockets on 127.0.0.1: keep-alive clients (undici), a Redis online store
// killed and restarted under load, graceful close, and a seeded fuzz of request bodies.
import { Readable } from "node:stream";
import { RedisOnlineStore } from "@mlforge/online-redis";
import { startRedis, type TestRedisServer } from "@mlforge/redis-test-server";
import { closeGracefully, createFeatureServer } from "@mlforge/server";
import type { FastifyInstance } from "fastify";
import { Agent, request } from "undici";
import { createFixture, type Fixture } from "./support/fixture";

let redis: TestRedisServer;
let fixture: Fixture;
let server: FastifyInstance;
let base: string;
const agent = new Agent({ keepAliveTimeout: 10_000, connections: 8 });

beforeAll(async () => {
  redis = await startRedis({ password: "redis-pass-77" });
  fixture = await createFixture({ onlineStore: () => new RedisOnlineStore({ url: redis.url }) });
  server = createFeatureServer({ defs: fixture.open(), requestTimeoutMs: 1500, maxEntities: 100, bodyLimit: 16 * 1024 });
  base = await server.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server.close();
  await agent.close();
  await fixture.remove();
  await redis.stop();
});

async function post(body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await request(`${base}/features/online`, { method: "POST", body, headers: { "content-type": "application/json" }, dispatcher: agent });
  const text = await response.body.text();
  return { status: response.statusCode, json: JSON.parse(text) as Record<string, unknown> };
}

const good = JSON.stringify({ features: ["user_spend", "account_counter"], entities: [{ user_id: "u02", account_id: 2 }] });

test("answers online lookups over a real socket from Redis", async () => {
  const response = await post(good);
  expect(response.status).toBe(200);
  expect((response.json.rows as Array<Record<string, unknown>>)[0]).toMatchObject({ user_id: "u02", transaction_count: 3, counter: 42 });
});

test("Redis killed while requests run: 503 with a redacted message, /ready 503, then recovery without restart", async () => {
  await redis.kill();
  const started = Date.now();
  const during = await Promise.all(Array.from({ length: 20 }, () => post(good)));
  expect(Date.now() - started).toBeLessThan(10_000);
  for (const response of during) {
    expect(response.status).toBe(503);
    expect(response.json.error).toMatch(/StoreAccessError|StoreTimeoutError/);
    expect(String(response.json.message)).not.toContain("redis-pass-77");
  }
  expect((await request(`${base}/ready`, { dispatcher: agent })).statusCode).toBe(503);
  expect((await request(`${base}/health`, { dispatcher: agent })).statusCode).toBe(200);
  const metrics = await (await request(`${base}/metrics`, { dispatcher: agent })).body.text();
  expect(metrics).toMatch(/mlforge_online_store_duration_seconds_count\{operation="read",outcome="error"\} \d+/);
  expect(metrics).not.toContain("redis-pass-77");

  // A restarted Redis is empty: sync again, as an operator would, and reads come back within 5 s.
  await redis.restart();
  const sync = fixture.open(new RedisOnlineStore({ url: redis.url }));
  await sync.syncOnline();
  await sync.close();
  const deadline = Date.now() + 5_000;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await post(good)).status;
    if (last === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(last).toBe(200);
  expect((await request(`${base}/ready`, { dispatcher: agent })).statusCode).toBe(200);
});

/** A small seeded generator (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// A slow tier: with MLFORGE_SLOW_TESTS=0 (.ci/run's second Node version) Jest reports it as skipped.
(process.env.MLFORGE_SLOW_TESTS !== "0" ? test : test.skip)("a seeded fuzz of 2000 random and mutated bodies gets no 5xx but 503, and the server answers afterwards", async () => {
  const next = random(20240601);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const values: unknown[] = [null, true, 0, -1, 1.5, 2 ** 60, "u01", "", "x".repeat(300), [], {}, { a: 1 }, ["user_spend"], "__proto__", "9".repeat(40)];
  const keys = ["features", "entities", "user_id", "account_id", "__proto__", "constructor", "", "extra"];
  const mutate = (text: string): string => {
    const position = Math.floor(next() * (text.length + 1));
    switch (Math.floor(next() * 4)) {
      case 0: return text.slice(0, position) + text.slice(position + 1);
      case 1: return text.slice(0, position) + pick(["{", "}", "[", "]", ",", ":", '"', "\\", "\u0000", "1e999", "null"]) + text.slice(position);
      case 2: return text.slice(0, position);
      default: return text + text.slice(position);
    }
  };
  const randomBody = (): string => {
    const kind = next();
    if (kind < 0.4) return mutate(mutate(good));
    if (kind < 0.7) {
      const body: Record<string, unknown> = {};
      for (let index = 0; index < 1 + Math.floor(next() * 3); index++) body[pick(keys)] = pick(values);
      return JSON.stringify(body);
    }
    const entities = Array.from({ length: Math.floor(next() * 4) }, () => ({ [pick(keys)]: pick(values) }));
    return JSON.stringify({ features: [pick(["user_spend", "user_spend.total_spend", "nope", "account_counter", "user_spend.", ".x", "account_counter.counter"])], entities });
  };
  const statuses = new Map<number, number>();
  for (let batch = 0; batch < 100; batch++) {
    const responses = await Promise.all(Array.from({ length: 20 }, async () => {
      const body = randomBody();
      const response = await post(body).catch((error: unknown) => ({ status: -1, json: { error: String(error), body } as Record<string, unknown> }));
      if (response.status >= 500 && response.status !== 503) throw new Error(`${response.status} for ${body}: ${JSON.stringify(response.json)}`);
      return response.status;
    }));
    for (const status of responses) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }
  expect(statuses.get(-1)).toBeUndefined();
  expect(statuses.get(400)).toBeGreaterThan(100);
  expect((await post(good)).status).toBe(200);
});

test("closeGracefully finishes a request whose body is still arriving, closes idle keep-alive connections and the stores", async () => {
  const other = createFeatureServer({ defs: fixture.open(new RedisOnlineStore({ url: redis.url })) });
  const address = await other.listen({ host: "127.0.0.1", port: 0 });
  const idle = new Agent({ keepAliveTimeout: 60_000 });
  expect((await request(`${address}/health`, { dispatcher: idle })).statusCode).toBe(200);
  // A body sent in two halves, the second after the close has begun.
  let finish: (() => void) | undefined;
  const halves = (async function* () {
    yield good.slice(0, 20);
    await new Promise<void>((resolve) => (finish = resolve));
    yield good.slice(20);
  })();
  const slow = request(`${address}/features/online`, { method: "POST", body: Readable.from(halves), headers: { "content-type": "application/json" } });
  await new Promise((resolve) => setTimeout(resolve, 200));
  const started = Date.now();
  const closing = closeGracefully(other, { timeoutMs: 10_000 });
  await new Promise((resolve) => setTimeout(resolve, 200));
  finish!();
  const response = await slow;
  expect(response.statusCode).toBe(200);
  await response.body.text();
  await closing;
  expect(Date.now() - started).toBeLessThan(5_000);
  await expect(request(`${address}/health`, { dispatcher: new Agent() })).rejects.toThrow();
  await idle.close();
});
