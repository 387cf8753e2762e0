import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import {
  FeatureDefinitionError,
  FeatureNotBuiltError,
  FeatureNotFoundError,
  FeatureNotSyncedError,
  MlforgeError,
  StoreAccessError,
  type Definitions,
  type Feature,
  type FeatureListing,
  type FeatureMetadata,
  type FeatureStats,
  type OnlineFeatureStatus,
} from "@mlforge/core";
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { BearerToken } from "./bearer-token";
import { CATALOG_HTML, CATALOG_SCRIPT, CATALOG_STYLE } from "./catalog-page";
import { toJsonRowInPlace, toJsonValue } from "./json-value";
import { featureStatsSchema, getFeatureSchema, healthSchema, listFeaturesSchema, metricsSchema, onlineFeaturesSchema, readySchema } from "./schemas";
import { ServerError, withTimeout, type ErrorBody } from "./server-error";
import { ServerMetrics } from "./server-metrics";

/** Options of `createFeatureServer()`. */
export interface FeatureServerOptions {
  /** The definitions to serve; the server reads through them and closes them when it closes. */
  defs: Definitions;
  /**
   * When set, every route but `/health` and the catalog page's own files (`/`, `/catalog.css`,
   * `/catalog.js`) needs `Authorization: Bearer <token>`, the OpenAPI document and `/docs` included.
   * @default none: no authentication
   */
  token?: string;
  /** Most entities one `POST /features/online` may ask for. @default 1000 */
  maxEntities?: number;
  /** Largest request body in bytes (413 beyond). @default 1048576 (1 MiB) */
  bodyLimit?: number;
  /** How long a store call may take before the request gets a 503. @default 5000 */
  requestTimeoutMs?: number;
  /** Fastify's logger option (pino); the Authorization header is redacted. @default false */
  logger?: FastifyServerOptions["logger"];
  /** Serve online routes. `mlforge ui` passes false: the catalog over the offline store alone. @default true when `defs` has an online store */
  online?: boolean;
}

/**
 * Routes served without a token: liveness, and the catalog page's own files, which hold no
 * feature data (the page asks for the token once, then sends it with every API call). The API
 * docs are not among them: the OpenAPI document describes every route of the API.
 */
const OPEN_ROUTES = new Set(["/health", "/", "/catalog.css", "/catalog.js"]);

/** Maps a thrown error to a status and body; never a stack trace or file path for a client's mistake. */
function errorResponse(error: unknown, maxEntities: number): { statusCode: number; body: ErrorBody } {
  if (error instanceof ServerError) return { statusCode: error.statusCode, body: { error: error.errorName, message: error.message } };
  if (FeatureNotFoundError.isInstance(error)) return { statusCode: 404, body: { error: "FeatureNotFoundError", message: error.message } };
  if (FeatureNotSyncedError.isInstance(error)) return { statusCode: 404, body: { error: "FeatureNotSyncedError", message: error.message } };
  if (FeatureNotBuiltError.isInstance(error)) return { statusCode: 404, body: { error: "FeatureNotBuiltError", message: error.message } };
  if (FeatureDefinitionError.isInstance(error)) return { statusCode: 400, body: { error: "FeatureDefinitionError", message: error.message } };
  if (StoreAccessError.isInstance(error)) return { statusCode: 503, body: { error: "StoreAccessError", message: error.message } };
  const fastifyError = error as Partial<FastifyError> & { validation?: Array<{ keyword: string; instancePath: string }> };
  if (fastifyError.validation !== undefined) {
    const first = fastifyError.validation[0];
    if (first?.keyword === "maxItems" && first.instancePath === "/entities") {
      return { statusCode: 400, body: { error: "TooManyEntitiesError", message: `A request may ask for at most ${maxEntities} entities. Split the entities into batches of ${maxEntities} or fewer.` } };
    }
    return { statusCode: 400, body: { error: "ValidationError", message: `${fastifyError.message ?? "The request is invalid"}. See GET /openapi.json for the request's shape.` } };
  }
  switch (fastifyError.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { statusCode: 413, body: { error: "BodyTooLargeError", message: "The request body is larger than the server's limit. Send fewer entities per request." } };
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { statusCode: 415, body: { error: "UnsupportedMediaTypeError", message: "Send the body as JSON with the header Content-Type: application/json." } };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { statusCode: 400, body: { error: "InvalidJsonError", message: "The request body is empty. Send a JSON object such as {\"features\": [\"user_total_spend\"], \"entities\": [{\"user_id\": \"u1\"}]}." } };
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return { statusCode: 400, body: { error: "InvalidJsonError", message: "The request body is not valid JSON. Send a JSON object." } };
  }
  if (error instanceof SyntaxError || fastifyError.statusCode === 400) {
    return { statusCode: 400, body: { error: "InvalidJsonError", message: "The request body is not valid JSON (or holds __proto__ or constructor keys). Send a JSON object." } };
  }
  const status = fastifyError.statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    return { statusCode: status, body: { error: "BadRequestError", message: "The request was refused. Check the method, headers and body against GET /openapi.json." } };
  }
  if (MlforgeError.isInstance(error)) return { statusCode: 500, body: { error: error.name, message: error.message } };
  return { statusCode: 500, body: { error: "InternalServerError", message: "The server failed to answer. Its log has the details." } };
}

/** The feature's definition fields as JSON. */
function definitionJson(feature: Feature) {
  return {
    name: feature.name,
    description: feature.description ?? null,
    keys: [...feature.keys],
    timestamp: feature.timestamp ?? null,
    tags: [...feature.tags],
    source: feature.source,
    onlineTtlMs: feature.onlineTtl ?? null,
  };
}

function offlineJson(metadata: FeatureMetadata | undefined) {
  return metadata === undefined ? null : { buildId: metadata.buildId, builtAt: metadata.builtAt, rows: metadata.rows, bytes: metadata.bytes, durationMs: metadata.durationMs };
}

type OnlineLookup = { kind: "disabled" } | { kind: "unavailable"; message: string } | { kind: "known"; statuses: Record<string, OnlineFeatureStatus | undefined> };

function onlineJson(lookup: OnlineLookup, name: string, metadata: FeatureMetadata | undefined) {
  if (lookup.kind === "disabled") return { state: "disabled" };
  if (lookup.kind === "unavailable") return { state: "unavailable", message: lookup.message };
  const status = lookup.statuses[name];
  if (status === undefined) return { state: "not-synced" };
  return { state: metadata === undefined || metadata.buildId === status.buildId ? "synced" : "behind", ...status };
}

/**
 * The HTTP feature server of `defs` as a Fastify instance, not listening yet: online lookups,
 * the catalog (page and JSON), health, readiness, Prometheus metrics and the OpenAPI document.
 * Call `listen({ host: "127.0.0.1", port })`; `close()` also closes `defs`.
 */
export function createFeatureServer(options: FeatureServerOptions): FastifyInstance {
  const { defs } = options;
  const maxEntities = options.maxEntities ?? 1000;
  const timeoutMs = options.requestTimeoutMs ?? 5000;
  const online = options.online ?? defs.onlineStore !== undefined;
  const token = options.token === undefined || options.token === "" ? undefined : new BearerToken(options.token);
  const secret = options.token;
  const metrics = new ServerMetrics();
  const statsCache = new Map<string, Promise<FeatureStats>>();

  const server = Fastify({
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    logger: options.logger === undefined || options.logger === false ? false : typeof options.logger === "object" ? { redact: ["req.headers.authorization"], ...options.logger } : { redact: ["req.headers.authorization"] },
    // Idle keep-alive connections close at once on close(); requests under way finish.
    forceCloseConnections: "idle",
    return503OnClosing: true,
    requestTimeout: Math.max(30_000, timeoutMs * 2),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allowUnionTypes: true, useDefaults: false } },
  });

  /** A message with the token (if it somehow got there) taken out. */
  const redact = (text: string) => (secret === undefined || secret === "" ? text : text.split(secret).join("[redacted]"));

  // Hooks in callback style: an async hook costs every request a promise and a tick.
  if (token !== undefined) {
    server.addHook("onRequest", (request, reply, done) => {
      if (OPEN_ROUTES.has(request.routeOptions.url ?? "") || token.accepts(request.headers.authorization)) {
        done();
        return;
      }
      reply.header("www-authenticate", 'Bearer realm="mlforge"');
      done(new ServerError(401, "UnauthorizedError", "This server needs a token. Send the header Authorization: Bearer <token> (the token given to mlforge serve --token or MLFORGE_SERVER_TOKEN)."));
    });
  }

  server.addHook("onResponse", (request, reply, done) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.requestDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  server.setErrorHandler((error, request, reply) => {
    const { statusCode, body } = errorResponse(error, maxEntities);
    metrics.errors.inc({ route: request.routeOptions.url ?? "unmatched", error: body.error });
    if (statusCode >= 500 && statusCode !== 503) request.log.error({ err: error }, "request failed");
    void reply.code(statusCode).type("application/json; charset=utf-8").send({ error: body.error, message: redact(body.message) });
  });

  server.setNotFoundHandler(async (request, reply) => {
    if (token !== undefined && !token.accepts(request.headers.authorization)) {
      throw new ServerError(401, "UnauthorizedError", "This server needs a token. Send the header Authorization: Bearer <token>.");
    }
    metrics.errors.inc({ route: "unmatched", error: "RouteNotFoundError" });
    return reply.code(404).send({ error: "RouteNotFoundError", message: `No route ${request.method} ${request.url.slice(0, 200).split("?")[0]}. See GET /openapi.json for the routes.` });
  });

  void server.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: { title: `mlforge feature server: ${defs.name}`, version: "1" },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      ...(token === undefined ? {} : { security: [{ bearer: [] }] }),
    },
  });
  void server.register(swaggerUi, { routePrefix: "/docs", staticCSP: true });

  const listing = async (): Promise<FeatureListing[]> => defs.list();
  const onlineLookup = async (names: readonly string[]): Promise<OnlineLookup> => {
    if (!online || defs.onlineStore === undefined) return { kind: "disabled" };
    try {
      const statuses = await withTimeout(
        metrics.timeStore("status", () => defs.onlineStatus(names)),
        timeoutMs,
        defs.onlineStore.description,
      );
      return { kind: "known", statuses };
    } catch (error) {
      return { kind: "unavailable", message: redact(error instanceof Error ? error.message : String(error)) };
    }
  };
  const summary = (listed: FeatureListing, lookup: OnlineLookup) => ({
    ...definitionJson(listed.feature),
    columns: listed.metadata?.schema.map((column) => ({ name: column.name, type: column.type })) ?? [],
    offline: offlineJson(listed.metadata),
    online: onlineJson(lookup, listed.feature.name, listed.metadata),
  });

  void server.register(async (routes) => {
    routes.get("/health", { schema: healthSchema }, async () => ({ status: "ok" }));

    routes.get("/ready", { schema: readySchema }, async () => {
      if (online && defs.onlineStore !== undefined) {
        const store = defs.onlineStore;
        await withTimeout(metrics.timeStore("check", () => store.check()), timeoutMs, store.description);
      } else {
        await withTimeout(defs.offlineStore.check(), timeoutMs, "The offline store");
      }
      return { status: "ready" };
    });

    routes.get("/metrics", { schema: metricsSchema }, async (_request, reply) => {
      const text = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(redact(text));
    });

    routes.get("/openapi.json", { schema: { hide: true } }, async () => server.swagger());

    routes.get("/features", { schema: listFeaturesSchema }, async () => {
      const listed = await listing();
      const lookup = await onlineLookup(listed.map((item) => item.feature.name));
      return { definitions: defs.name, features: listed.map((item) => summary(item, lookup)) };
    });

    routes.get<{ Params: { name: string } }>("/features/:name", { schema: getFeatureSchema }, async (request) => {
      const feature = defs.feature(request.params.name);
      const metadata = await defs.metadata(feature.name);
      const lookup = await onlineLookup([feature.name]);
      let sql: string | null = null;
      let sqlError: string | null = null;
      try {
        const rendered: unknown = await feature.transform("source");
        if (typeof rendered === "string") sql = rendered.trim();
        else sqlError = `The transform returned ${typeof rendered}, not a SQL string.`;
      } catch (error) {
        sqlError = `The transform threw: ${error instanceof Error ? error.message : String(error)}`;
      }
      return { ...summary({ feature, metadata }, lookup), sql, sqlError };
    });

    routes.get<{ Params: { name: string } }>("/features/:name/stats", { schema: featureStatsSchema }, async (request) => {
      const feature = defs.feature(request.params.name);
      const metadata = await defs.metadata(feature.name);
      if (metadata === undefined) {
        throw new ServerError(404, "FeatureNotBuiltError", `Feature '${feature.name}' is not built yet, so it has no statistics. Build it with \`mlforge build --features ${feature.name}\`.`);
      }
      // Per build: a new build gets new statistics, an old build's are dropped.
      const cacheKey = `${feature.name}@${metadata.buildId}`;
      let stats = statsCache.get(cacheKey);
      if (stats === undefined) {
        for (const key of statsCache.keys()) if (key.startsWith(`${feature.name}@`)) statsCache.delete(key);
        stats = defs.stats(feature.name);
        statsCache.set(cacheKey, stats);
        stats.catch(() => statsCache.delete(cacheKey));
      }
      const result = await stats;
      return toJsonValue(result);
    });

    routes.post<{ Body: { features: string[]; entities: Array<Record<string, string | number>> } }>(
      "/features/online",
      { schema: onlineFeaturesSchema(maxEntities) },
      async (request, reply) => {
        if (!online || defs.onlineStore === undefined) {
          throw new ServerError(
            503,
            "OnlineStoreNotConfiguredError",
            defs.onlineStore === undefined
              ? "This server has no online store. Pass onlineStore to the Definitions (for example new LocalOnlineStore(\"./online_store\")) and restart it."
              : "This server serves the catalog over the offline store alone (mlforge ui). Start `mlforge serve` for online lookups.",
          );
        }
        const { features, entities } = request.body;
        const store = defs.onlineStore;
        const rows = await withTimeout(metrics.timeStore("read", () => defs.getOnlineFeatures({ features, entities })), timeoutMs, store.description);
        const names = [...new Set(features.map((item) => item.split(".")[0]!))];
        // Right after the read this answers from the pointers the read used, with no store call:
        // not timed as one, which would fill the store latency histogram with zeros.
        const statuses = await withTimeout(defs.onlineStatus(names), timeoutMs, store.description);
        const metadata: Record<string, { buildId: string; builtAt: string; syncedAt: string }> = {};
        for (const name of names) {
          const status = statuses[name];
          if (status !== undefined) metadata[name] = { buildId: status.buildId, builtAt: status.builtAt, syncedAt: status.syncedAt };
        }
        for (const row of rows) toJsonRowInPlace(row);
        // Rows hold whatever columns were asked for, so the response schema cannot list them:
        // fast-json-stringify would walk them as additionalProperties, one JSON.stringify per
        // value, which takes about twice as long as one JSON.stringify of the whole body.
        reply.serializer(JSON.stringify);
        return { rows, metadata };
      },
    );

    routes.get("/", { schema: { hide: true } }, async (_request, reply) => reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(CATALOG_HTML));
    routes.get("/catalog.css", { schema: { hide: true } }, async (_request, reply) => reply.type("text/css; charset=utf-8").header("cache-control", "no-cache").send(CATALOG_STYLE));
    routes.get("/catalog.js", { schema: { hide: true } }, async (_request, reply) => reply.type("text/javascript; charset=utf-8").header("cache-control", "no-cache").send(CATALOG_SCRIPT));
  });

  server.addHook("onClose", async () => {
    await defs.close();
  });

  return server;
}
