export { DEFINITIONS_CANDIDATES, findDefinitionsFile, loadDefinitions } from "./load-definitions";
export type { LoadedDefinitions } from "./load-definitions";
export type { OutputStream } from "./output-stream";
export { EXIT_CODES } from "./exit-codes";
export { run } from "./run";
export type { RunIo } from "./run";
export { shardFeatures } from "./shard";
export type { Shard } from "./shard";
export { UsageError } from "./usage-error";
