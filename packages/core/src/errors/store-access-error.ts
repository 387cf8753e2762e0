import { MlforgeError } from "./mlforge-error";

/** The offline store cannot be reached, read or written. */
export class StoreAccessError extends MlforgeError {}
