import { Definitions } from "@mlforge/core";
import * as features from "./features";
import { getOnlineStore, getStore } from "./get-store";

export { ENVIRONMENTS, getOnlineStore, getStore } from "./get-store";

/** The project's features, the offline store of the current ENVIRONMENT (see `getStore`) and the online store (see `getOnlineStore`). */
export const defs = new Definitions({
  name: "user-features",
  features: [features],
  offlineStore: getStore(),
  onlineStore: getOnlineStore(),
});
