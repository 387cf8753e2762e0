import { Definitions } from "@mlforge/core";
import * as features from "./features";
import { getStore } from "./get-store";

export { ENVIRONMENTS, getStore } from "./get-store";

/** The project's features and the store of the current ENVIRONMENT (see `getStore`). */
export const defs = new Definitions({
  name: "user-features",
  features: [features],
  offlineStore: getStore(),
});
