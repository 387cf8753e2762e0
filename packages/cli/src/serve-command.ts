import type { FlagDescriptor } from "./command-descriptor";
import type { CommandContext } from "./command-context";
import { UsageError } from "./usage-error";

/** Parses `--port`: a whole number from 0 (any free port) to 65535. */
export function parsePort(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(port) || port > 65_535) {
    throw new UsageError(`--port needs a port number from 0 to 65535, got '${value}'. For example --port 8080.`);
  }
  return port;
}

/** The flags of `serve` and `ui`. */
export const SERVE_FLAGS: readonly FlagDescriptor[] = [
  { name: "host", type: "string", placeholder: "<host>", description: "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)" },
  { name: "port", type: "string", placeholder: "<port>", description: "port to listen on (default 8080; 0 for any free port)", parse: parsePort },
  {
    name: "token",
    type: "string",
    placeholder: "<token>",
    description: "require Authorization: Bearer <token> on every route but /health\n(default: MLFORGE_SERVER_TOKEN; prefer it, a flag shows in `ps`)",
  },
];

/** Runs a feature server until the command's signal (SIGINT, SIGTERM), then closes it gracefully; resolves to 0. */
export async function runServer(context: CommandContext, mode: "serve" | "ui"): Promise<number> {
  // An optional peer: the CLI stays light (no Fastify) for users who only build.
  const { createFeatureServer, closeGracefully } = await import("@mlforge/server").catch((error: unknown) => {
    if ((error as { code?: string }).code !== "ERR_MODULE_NOT_FOUND" && (error as { code?: string }).code !== "MODULE_NOT_FOUND") throw error;
    throw new UsageError(`mlforge ${mode} needs @mlforge/server. Install it (npm install @mlforge/server) and run again.`);
  });
  const { definitions, arguments: args } = context;
  const token = args.token ?? process.env.MLFORGE_SERVER_TOKEN;
  const host = args.host ?? "127.0.0.1";
  const online = mode === "serve" && definitions.onlineStore !== undefined;
  const server = createFeatureServer({ defs: definitions, token, online });
  try {
    await server.listen({ host, port: args.port ?? 8080 });
  } catch (error) {
    await server.close().catch(() => undefined);
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE") throw new UsageError(`Port ${args.port ?? 8080} on ${host} is in use. Pick another with --port, or --port 0 for any free one.`);
    throw error;
  }
  const address = server.server.address();
  const port = typeof address === "object" && address !== null ? address.port : (args.port ?? 8080);
  const base = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  context.stdout.write(`Feature catalog: ${base}/\n`);
  if (online) context.stdout.write(`Online lookups:  POST ${base}/features/online (API docs: ${base}/docs)\n`);
  else if (mode === "serve") context.stderr.write("The definitions have no online store: online lookups answer 503. Pass onlineStore to the Definitions to serve them.\n");
  else context.stdout.write("Serving the offline store only (mlforge ui); run `mlforge serve` for online lookups.\n");
  if (token !== undefined && token !== "") context.stdout.write("A token is required (Authorization: Bearer <token>); /health is open.\n");
  context.stdout.write("Press Ctrl-C to stop.\n");

  await new Promise<void>((resolve) => {
    if (context.signal === undefined) return;
    if (context.signal.aborted) resolve();
    else context.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await closeGracefully(server, { timeoutMs: 9_000 });
  context.stderr.write("Stopped.\n");
  return 0;
}

/** `mlforge serve`: the HTTP feature server with online lookups and the catalog page. */
export function serveCommand(context: CommandContext): Promise<number> {
  return runServer(context, "serve");
}
