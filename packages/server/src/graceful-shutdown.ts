import type { FastifyInstance } from "fastify";

/** Options of `closeGracefully()` and `closeOnSignals()`. */
export interface GracefulShutdownOptions {
  /** After this long, connections still open are ended and the close finishes anyway. @default 10000 */
  timeoutMs?: number;
}

/**
 * Closes a feature server: stops accepting connections, closes idle keep-alive connections at
 * once, lets requests under way finish (bodies still arriving included), then closes the stores.
 * Connections still busy after `timeoutMs` are ended.
 */
export async function closeGracefully(server: FastifyInstance, options: GracefulShutdownOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(() => server.server.closeAllConnections(), Math.max(0, timeoutMs - 500));
  timer.unref();
  // A keep-alive connection whose last request finishes after the close began turns idle later:
  // close those too, rather than waiting for the client to hang up.
  const sweeper = setInterval(() => server.server.closeIdleConnections(), 50);
  sweeper.unref();
  try {
    await server.close();
  } finally {
    clearTimeout(timer);
    clearInterval(sweeper);
  }
}

/**
 * On the first SIGTERM or SIGINT, closes the server gracefully (see `closeGracefully`) and ends
 * the process with code 0 (1 if closing failed). Returns a function that removes the handlers.
 */
export function closeOnSignals(server: FastifyInstance, options: GracefulShutdownOptions = {}): () => void {
  const signals = ["SIGTERM", "SIGINT"] as const;
  const handler = () => {
    remove();
    // A stuck close still ends the process in time.
    setTimeout(() => process.exit(1), (options.timeoutMs ?? 10_000) + 1_000).unref();
    closeGracefully(server, options).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  const remove = () => {
    for (const signal of signals) process.removeListener(signal, handler);
  };
  for (const signal of signals) process.once(signal, handler);
  return remove;
}
