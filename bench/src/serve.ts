// One side of the server load case, in a process of its own (forked with an IPC channel by
// server-load.ts): `mlforge`, @mlforge/server's createFeatureServer over a RedisOnlineStore, or
// `bare`, a Fastify route doing the raw pipelined HMGETs of the same stored bytes.
// Usage: node --import tsx serve.ts <mlforge|bare> '<json options>'. Messages: it sends
// { type: "listening", url } once listening; it answers { type: "cpu" } with its CPU time so far,
// and on { type: "close" } closes its server and exits (which writes a --cpu-prof profile).
import { RedisOnlineStore } from "@mlforge/online-redis";
import { createFeatureServer } from "@mlforge/server";
import Fastify, { type FastifyInstance } from "fastify";
import { createClient } from "redis";
import { POINTERS, PREFIX, READ_FEATURES, onlineDefinitions } from "./online";

/** Options of a served side, from server-load.ts. */
export interface ServeOptions {
  redisUrl: string;
  /** The generated values Parquet the features read. */
  values: string;
  /** The LocalStore the read features were built into. */
  store: string;
}

/** The body both sides take: the body of `POST /features/online`. */
interface OnlineBody {
  features: string[];
  entities: Array<{ user_id: string }>;
}

/** mlforge: the feature server as a user starts it (no token, no logger: the defaults). */
async function mlforgeServer(options: ServeOptions): Promise<{ server: FastifyInstance; close: () => Promise<void> }> {
  const defs = onlineDefinitions(options, new RedisOnlineStore({ url: options.redisUrl }));
  const server = createFeatureServer({ defs });
  // The server closes the definitions it serves.
  return { server, close: () => server.close() };
}

/**
 * Bare: Fastify's defaults and one route that looks up the hash of each requested feature (from
 * mlforge's pointers, read once at start), sends one HMGET per feature in one tick (node-redis
 * pipelines them: one round trip, as RedisOnlineStore does) and returns the stored strings as
 * they are: `{ "values": [[<feature 0's value of entity 0>, …], …] }`. No validation, no key
 * encoding, no decoding, no metrics, no timeouts.
 */
async function bareServer(options: ServeOptions): Promise<{ server: FastifyInstance; close: () => Promise<void> }> {
  // The leanest client: no per-command timeout timer (node-redis 6 arms one of 5 s by default).
  const client = createClient({ url: options.redisUrl, commandOptions: { timeout: 0 } });
  await client.connect();
  const pointers = await client.hmGet(`${PREFIX}:{${POINTERS}}`, READ_FEATURES);
  const hashes = new Map(READ_FEATURES.map((name, index) => [name, `${PREFIX}:{${(JSON.parse(pointers[index]!) as { namespace: string }).namespace}}`]));
  const server = Fastify();
  server.post<{ Body: OnlineBody }>("/features/online", async (request) => {
    const keys = request.body.entities.map((entity) => entity.user_id);
    const values = await Promise.all(request.body.features.map((name) => client.hmGet(hashes.get(name)!, keys)));
    return { values };
  });
  return {
    server,
    close: async () => {
      await server.close();
      await client.close();
    },
  };
}

const [kind, json] = process.argv.slice(2);
if (kind !== "mlforge" && kind !== "bare") {
  process.stderr.write(`serve.ts takes 'mlforge' or 'bare', not '${kind}'.\n`);
  process.exit(2);
}
const options = JSON.parse(json ?? "{}") as ServeOptions;
const { server, close } = await (kind === "mlforge" ? mlforgeServer(options) : bareServer(options));
const url = await server.listen({ host: "127.0.0.1", port: 0 });
process.on("message", (message: { type: string }) => {
  if (message.type === "cpu") {
    process.send!({ type: "cpu", usage: process.cpuUsage() });
  } else if (message.type === "close") {
    void close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${String(error)}\n`);
        process.exit(1);
      },
    );
  }
});
// Without the parent (it crashed or was killed) there is nobody to serve: exit.
process.on("disconnect", () => process.exit(0));
process.send!({ type: "listening", url });
