import { FeatureDefinitionError } from "../errors";
import type { Feature } from "../feature";
import type { ReadSelection } from "./online-serving";

/** Options of `Definitions.getOnlineFeatures()`. */
export interface OnlineFeaturesOptions {
  /** Features (all their columns) and/or `feature.column` selections, such as `["user_total_spend", "user_spend_7d.spend_7d"]`. */
  features: readonly string[];
  /** One object of key values per row wanted, such as `[{ user_id: "user_00042" }]`; rows come back in this order. */
  entities: ReadonlyArray<Readonly<Record<string, unknown>>>;
}

/**
 * The selections and entities of a `getOnlineFeatures` call, checked against the definitions
 * before any store call: unknown features (via `lookup`), entities that are not objects, a missing
 * key column, or a column that is a key of none of the requested features.
 */
export function parseReadOptions(options: OnlineFeaturesOptions, lookup: (name: string) => Feature): ReadSelection[] {
  if (options.features === undefined || options.features.length === 0) {
    throw new FeatureDefinitionError('getOnlineFeatures needs features, for example features: ["user_total_spend", "user_spend_7d.spend_7d"].');
  }
  if (!Array.isArray(options.entities)) {
    throw new FeatureDefinitionError('getOnlineFeatures option \'entities\' must be an array of key objects, for example entities: [{ user_id: "user_00042" }].');
  }
  const selections: ReadSelection[] = [];
  for (const item of options.features) {
    const dot = item.indexOf(".");
    const feature = lookup(dot === -1 ? item : item.slice(0, dot));
    const column = dot === -1 ? undefined : item.slice(dot + 1);
    if (column === "") throw new FeatureDefinitionError(`getOnlineFeatures selection '${item}' names no column. Use 'feature' or 'feature.column'.`);
    let selection = selections.find((existing) => existing.feature === feature);
    if (selection === undefined) {
      selection = { feature, columns: column === undefined ? undefined : [] };
      selections.push(selection);
    }
    if (column === undefined) selection.columns = undefined;
    else if (selection.columns !== undefined && !selection.columns.includes(column)) selection.columns.push(column);
  }
  const keys = new Map<string, string[]>();
  for (const { feature } of selections) for (const key of feature.keys) keys.set(key, [...(keys.get(key) ?? []), feature.name]);
  const described = selections.map(({ feature }) => `${feature.name}: ${feature.keys.join(", ")}`).join("; ");
  for (const [index, entity] of options.entities.entries()) {
    if (typeof entity !== "object" || entity === null || Array.isArray(entity)) {
      throw new FeatureDefinitionError(`Entity ${index} is ${entity === null ? "null" : Array.isArray(entity) ? "an array" : typeof entity}. Pass an object of key values, for example { user_id: "user_00042" }.`);
    }
    for (const name of Object.keys(entity)) {
      if (!keys.has(name)) {
        throw new FeatureDefinitionError(`Entity ${index} has column '${name}', which is a key of none of the requested features (keys: ${described}). Remove it or request a feature keyed by it.`);
      }
    }
    for (const [name, owners] of keys) {
      if (!Object.hasOwn(entity, name) || entity[name] === undefined) {
        throw new FeatureDefinitionError(`Entity ${index} has no '${name}', a key of feature${owners.length > 1 ? "s" : ""} ${owners.map((owner) => `'${owner}'`).join(", ")}. Give every entity ${[...keys.keys()].map((key) => `'${key}'`).join(" and ")}.`);
      }
    }
  }
  return selections;
}
