// Bearer-token auth over a real socket on 127.0.0.1: which routes need the token (the API, its
// OpenAPI document and /docs) and which a browser loads without it (/health, the catalog page's
// own files, which hold no feature data and ask for the token).
import { createFeatureServer } from "@mlforge/server";
import type { FastifyInstance } from "fastify";
import { request } from "undici";
import { createFixture, type Fixture } from "./support/fixture";

const token = "docs-token-5b1e07";
let fixture: Fixture;
let server: FastifyInstance;
let base: string;

beforeAll(async () => {
  fixture = await createFixture();
  server = createFeatureServer({ defs: fixture.open(), token });
  base = await server.listen({ host: "127.0.0.1", port: 0 });
});

afterAll(async () => {
  await server?.close();
  await fixture?.remove();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; type: string | undefined; authenticate: string | undefined }> {
  const response = await request(`${base}${path}`, { headers });
  const body = await response.body.text();
  const header = (name: string) => (response.headers[name] === undefined ? undefined : String(response.headers[name]));
  return { status: response.statusCode, body, type: header("content-type"), authenticate: header("www-authenticate") };
}

const authorized = { authorization: `Bearer ${token}` };

/** Asserts a 401 with the JSON error body and the challenge, without and with a wrong token. */
async function expectRefused(path: string): Promise<void> {
  for (const headers of [{}, { authorization: "Bearer wrong-token" }, { authorization: token }] as Array<Record<string, string>>) {
    const response = await get(path, headers);
    expect({ path, headers, status: response.status }).toEqual({ path, headers, status: 401 });
    expect(JSON.parse(response.body)).toEqual({ error: "UnauthorizedError", message: expect.stringContaining("Authorization: Bearer <token>") });
    expect(response.authenticate).toBe('Bearer realm="mlforge"');
    expect(response.body).not.toContain(token);
  }
}

test("GET /openapi.json is 401 without the token and the OpenAPI document with it", async () => {
  await expectRefused("/openapi.json");
  const response = await get("/openapi.json", authorized);
  expect(response.status).toBe(200);
  const document = JSON.parse(response.body);
  expect(Object.keys(document.paths)).toContain("/features/online");
  // The document says which routes need the token: all but /health.
  expect(document.security).toEqual([{ bearer: [] }]);
  expect(document.paths["/health"].get.security).toEqual([]);
});

test.each([
  ["/docs", "text/html"],
  ["/docs/", "text/html"],
  ["/docs/static/swagger-ui-bundle.js", "javascript"],
  ["/docs/static/swagger-ui.css", "text/css"],
  ["/docs/static/swagger-initializer.js", "javascript"],
  ["/docs/json", "application/json"],
  ["/docs/yaml", "yaml"],
])("GET %s (the docs page, its assets and its copy of the document) is 401 without the token and served with it", async (path, type) => {
  await expectRefused(path);
  const response = await get(path, authorized);
  expect(response.status).toBe(200);
  expect(response.type).toContain(type);
  expect(response.body.length).toBeGreaterThan(0);
});

test("an unknown path under /docs is 401 without the token and 404 with it", async () => {
  await expectRefused("/docs/static/no-such-file.js");
  expect((await get("/docs/static/no-such-file.js", authorized)).status).toBe(404);
});

test("/health and the catalog page's own files load without a token; the routes the page calls need it", async () => {
  for (const path of ["/health", "/", "/catalog.css", "/catalog.js"]) expect({ path, status: (await get(path)).status }).toEqual({ path, status: 200 });
  for (const path of ["/features", "/features/user_spend", "/features/user_spend/stats", "/ready", "/metrics"]) {
    await expectRefused(path);
    expect({ path, status: (await get(path, authorized)).status }).toEqual({ path, status: 200 });
  }
  const lookup = (headers: Record<string, string>) =>
    request(`${base}/features/online`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ features: ["user_spend"], entities: [{ user_id: "u01" }] }) });
  const refused = await lookup({});
  expect(refused.statusCode).toBe(401);
  await refused.body.text();
  const answered = await lookup(authorized);
  expect(answered.statusCode).toBe(200);
  expect(((await answered.body.json()) as { rows: unknown[] }).rows).toEqual([expect.objectContaining({ user_id: "u01", total_spend: 86 })]);
});
