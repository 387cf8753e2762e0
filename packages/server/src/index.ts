export { createFeatureServer } from "./feature-server";
export type { FeatureServerOptions } from "./feature-server";
export { closeGracefully, closeOnSignals } from "./graceful-shutdown";
export type { GracefulShutdownOptions } from "./graceful-shutdown";
export type { ErrorBody } from "./server-error";
