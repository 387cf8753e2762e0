import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** The Prometheus metrics of one feature server, in a registry of its own (two servers in one process do not mix). */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<"method" | "route" | "status">;
  readonly requestDuration: Histogram<"method" | "route">;
  readonly storeDuration: Histogram<"operation" | "outcome">;
  readonly errors: Counter<"route" | "error">;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "mlforge_server_" });
    this.requests = new Counter({
      name: "mlforge_http_requests_total",
      help: "HTTP requests answered, by method, route template and status code.",
      labelNames: ["method", "route", "status"],
      registers: [this.registry],
    });
    this.requestDuration = new Histogram({
      name: "mlforge_http_request_duration_seconds",
      help: "Time from receiving a request to sending its response, by method and route template.",
      labelNames: ["method", "route"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.storeDuration = new Histogram({
      name: "mlforge_online_store_duration_seconds",
      help: "Time of online store calls (read, status, check), by operation and outcome (ok, error).",
      labelNames: ["operation", "outcome"],
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.errors = new Counter({
      name: "mlforge_http_errors_total",
      help: "Error responses, by route template and error name.",
      labelNames: ["route", "error"],
      registers: [this.registry],
    });
  }

  /** Runs an online store call, recording its duration and outcome. */
  async timeStore<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const stop = this.storeDuration.startTimer({ operation });
    try {
      const result = await work();
      stop({ outcome: "ok" });
      return result;
    } catch (error) {
      stop({ outcome: "error" });
      throw error;
    }
  }
}
