import { MlforgeError } from "./mlforge-error";

/** A feature or a `Definitions` was declared wrongly: bad or duplicate name, no keys, no source. */
export class FeatureDefinitionError extends MlforgeError {}
