// JSON schemas of every route: requests are validated against them (no coercion), responses are
// serialised by them (but the rows of POST /features/online: see feature-server.ts), and
// @fastify/swagger makes the OpenAPI document from them.

const errorBody = {
  type: "object",
  description: "What is wrong and how to fix it.",
  properties: { error: { type: "string", description: "The error's name, such as FeatureNotFoundError." }, message: { type: "string" } },
  required: ["error", "message"],
} as const;

/** Error responses every API route may give. */
export const errorResponses = {
  400: errorBody,
  401: errorBody,
  404: errorBody,
  413: errorBody,
  415: errorBody,
  503: errorBody,
} as const;

const anything = { description: "Any JSON value." } as const;

const column = {
  type: "object",
  properties: { name: { type: "string" }, type: { type: "string", description: "DuckDB type." } },
  required: ["name", "type"],
} as const;

const offlineBuild = {
  type: ["object", "null"],
  description: "The feature's current build in the offline store; null when never built.",
  properties: {
    buildId: { type: "string" },
    builtAt: { type: "string", format: "date-time" },
    rows: { type: "number" },
    bytes: { type: "number" },
    durationMs: { type: "number" },
  },
} as const;

const onlineState = {
  type: "object",
  description:
    "The feature's online copy. state: synced (of the offline build), behind (of an older build), not-synced, unavailable (the online store did not answer), disabled (no online store).",
  properties: {
    state: { type: "string", enum: ["synced", "behind", "not-synced", "unavailable", "disabled"] },
    buildId: { type: "string" },
    builtAt: { type: "string" },
    syncedAt: { type: "string" },
    rows: { type: "number" },
    message: { type: "string" },
  },
  required: ["state"],
} as const;

const featureSummary = {
  type: "object",
  properties: {
    name: { type: "string" },
    description: { type: ["string", "null"] },
    keys: { type: "array", items: { type: "string" } },
    timestamp: { type: ["string", "null"] },
    tags: { type: "array", items: { type: "string" } },
    source: { type: "string" },
    onlineTtlMs: { type: ["number", "null"] },
    columns: { type: "array", items: column, description: "Columns of the current offline build (empty when never built)." },
    offline: offlineBuild,
    online: onlineState,
  },
  required: ["name", "keys", "tags", "source", "columns", "offline", "online"],
} as const;

export const listFeaturesSchema = {
  summary: "Every feature",
  description: "Keys, timestamp, columns with types, description, tags, offline build and online build of every feature.",
  tags: ["catalog"],
  response: {
    200: { type: "object", properties: { definitions: { type: "string", description: "The Definitions' name." }, features: { type: "array", items: featureSummary } }, required: ["definitions", "features"] },
    ...errorResponses,
  },
} as const;

const nameParams = {
  type: "object",
  properties: { name: { type: "string", description: "Feature name, such as user_total_spend." } },
  required: ["name"],
} as const;

export const getFeatureSchema = {
  summary: "One feature",
  description: "As in GET /features, plus the SQL of its transform. 404 lists the known feature names.",
  tags: ["catalog"],
  params: nameParams,
  response: {
    200: {
      ...featureSummary,
      properties: {
        ...featureSummary.properties,
        sql: { type: ["string", "null"], description: "The transform's SQL over relation `source`; null when the transform failed (see sqlError)." },
        sqlError: { type: ["string", "null"] },
      },
    },
    ...errorResponses,
  },
} as const;

export const featureStatsSchema = {
  summary: "Column statistics of a feature",
  description: "Null count, distinct count, min, max and a histogram (numeric) or top values (others) per column, computed by DuckDB over the offline build; cached per build.",
  tags: ["catalog"],
  params: nameParams,
  response: {
    200: {
      type: "object",
      properties: {
        name: { type: "string" },
        buildId: { type: "string" },
        builtAt: { type: "string" },
        rows: { type: "number" },
        columns: {
          type: "array",
          items: {
            type: "object",
            properties: {
              name: { type: "string" },
              type: { type: "string" },
              nullCount: { type: "number" },
              distinctCount: { type: "number" },
              min: anything,
              max: anything,
              histogram: {
                type: "array",
                items: { type: "object", properties: { lower: { type: "number" }, upper: { type: "number" }, count: { type: "number" } }, required: ["lower", "upper", "count"] },
              },
              topValues: { type: "array", items: { type: "object", properties: { value: { type: "string" }, count: { type: "number" } }, required: ["value", "count"] } },
            },
            required: ["name", "type", "nullCount", "distinctCount"],
          },
        },
      },
      required: ["name", "buildId", "builtAt", "rows", "columns"],
    },
    ...errorResponses,
  },
} as const;

/** The body and responses of `POST /features/online`; `maxEntities` bounds the entities. */
export function onlineFeaturesSchema(maxEntities: number) {
  return {
    summary: "Online feature values",
    description:
      "Rows of feature values for the given entities from the online store: keys as given, then the requested columns; null where the store holds no row. " +
      "Integers beyond 2^53 come back as strings, timestamps as ISO 8601. Send keys beyond 2^53 as strings.",
    tags: ["online"],
    body: {
      type: "object",
      properties: {
        features: {
          type: "array",
          minItems: 1,
          maxItems: 1000,
          items: { type: "string", minLength: 1, maxLength: 512 },
          description: "Features (all their columns) and/or feature.column selections.",
          examples: [["user_total_spend", "user_spend_7d.spend_7d"]],
        },
        entities: {
          type: "array",
          maxItems: maxEntities,
          items: { type: "object", minProperties: 1, additionalProperties: { type: ["string", "integer"] } },
          description: `Key values per row wanted, at most ${maxEntities}. An INTEGER key takes an integer or a string of one.`,
          examples: [[{ user_id: "user_00042" }]],
        },
      },
      required: ["features", "entities"],
      additionalProperties: false,
    },
    response: {
      200: {
        type: "object",
        properties: {
          rows: { type: "array", items: { type: "object", additionalProperties: true } },
          metadata: {
            type: "object",
            description: "Per requested feature, the build the values come from.",
            additionalProperties: {
              type: "object",
              properties: { buildId: { type: "string" }, builtAt: { type: "string" }, syncedAt: { type: "string" } },
              required: ["buildId", "builtAt", "syncedAt"],
            },
          },
        },
        required: ["rows", "metadata"],
      },
      ...errorResponses,
    },
  } as const;
}

export const healthSchema = {
  summary: "Liveness",
  description: "200 while the process serves requests; needs no token.",
  tags: ["operations"],
  // Open even when the server has a token (the document's default security does not apply).
  security: [],
  response: { 200: { type: "object", properties: { status: { type: "string" } }, required: ["status"] } },
} as const;

export const readySchema = {
  summary: "Readiness",
  description: "200 only when the online store answers (for `mlforge ui`, the offline store); 503 otherwise.",
  tags: ["operations"],
  response: { 200: { type: "object", properties: { status: { type: "string" } }, required: ["status"] }, ...errorResponses },
} as const;

export const metricsSchema = {
  summary: "Prometheus metrics",
  description: "Request counts and latency histograms per route, online store latency, errors.",
  tags: ["operations"],
  produces: ["text/plain"],
} as const;
