import { MlforgeError } from "./mlforge-error";

/** `getTrainingData` cannot join these entities and features: a missing or clashing column, bad options or entity rows. */
export class TrainingDataError extends MlforgeError {}
